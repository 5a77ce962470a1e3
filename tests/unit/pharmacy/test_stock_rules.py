"""First-expiry-first-out, availability and the stock-card arithmetic (pure domain)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.pharmacy.domain.stock import (
    CardKind,
    LotBalance,
    available,
    pick_fefo,
    summarise,
)

TODAY = date(2026, 11, 22)


def lot(number: str, days: int, on_hand: int) -> LotBalance:
    return LotBalance(number, TODAY + timedelta(days=days), on_hand, Decimal("1.0000"))


def test_the_earliest_expiring_lot_goes_first_whatever_its_number() -> None:
    lots = [lot("A-LATE", 300, 5), lot("Z-EARLY", 10, 3), lot("M-MID", 100, 4)]
    picks, short = pick_fefo(lots, 9, TODAY)
    assert [(p.lot_number, p.quantity) for p in picks] == [
        ("Z-EARLY", 3),
        ("M-MID", 4),
        ("A-LATE", 2),
    ]
    assert short == 0
    assert [lot.on_hand for lot in lots] == [5, 3, 4]  # picks are not posted here


def test_expired_lots_are_not_stock_but_a_lot_is_usable_on_its_expiry_date() -> None:
    lots = [lot("PAST", -1, 10), lot("TODAY", 0, 2)]
    assert available(lots, TODAY) == 2
    picks, short = pick_fefo(lots, 5, TODAY)
    assert [(p.lot_number, p.quantity) for p in picks] == [("TODAY", 2)]
    assert short == 3


def test_held_back_stock_stays_on_the_shelf() -> None:
    lots = [lot("A", 10, 5), lot("B", 20, 5)]
    assert available(lots, TODAY, held_back=7) == 3
    assert available(lots, TODAY, held_back=70) == 0
    picks, short = pick_fefo(lots, 4, TODAY, held_back=7)
    assert (sum(p.quantity for p in picks), short) == (3, 1)
    with pytest.raises(ValueError, match="positive"):
        pick_fefo(lots, 0, TODAY)


lot_lists = st.lists(
    st.builds(
        lot,
        st.text(alphabet="ABCDEFGH", min_size=1, max_size=3),
        st.integers(min_value=-30, max_value=400),
        st.integers(min_value=0, max_value=50),
    ),
    max_size=6,
    unique_by=lambda lot: lot.lot_number,
)


@given(lots=lot_lists, quantity=st.integers(min_value=1, max_value=200), held=st.integers(0, 60))
def test_fefo_never_takes_more_than_there_is_and_always_takes_what_it_can(
    lots: list[LotBalance], quantity: int, held: int
) -> None:
    picks, short = pick_fefo(lots, quantity, TODAY, held_back=held)
    by_number = {lot.lot_number: lot for lot in lots}
    taken = sum(p.quantity for p in picks)
    assert taken + short == quantity
    assert taken == min(quantity, available(lots, TODAY, held_back=held))
    for pick in picks:
        source = by_number[pick.lot_number]
        assert 0 < pick.quantity <= source.on_hand
        assert not source.expired(TODAY)
    # First-expiry-first-out: every lot picked expires no later than any usable lot left.
    expiries = [p.expiry_date for p in picks]
    assert expiries == sorted(expiries)
    if picks:
        last = picks[-1]
        untouched = [
            lot
            for lot in lots
            if lot.lot_number not in {p.lot_number for p in picks}
            and lot.on_hand > 0
            and not lot.expired(TODAY)
        ]
        assert all(lot.expiry_date >= last.expiry_date for lot in untouched)


def test_a_card_reconciles_when_the_lots_hold_what_its_lines_add_up_to() -> None:
    movements = [
        (CardKind.RECEIPT, 50),
        (CardKind.TRANSFER_IN, 10),
        (CardKind.DISPENSE, -12),
        (CardKind.TRANSFER_OUT, -8),
        (CardKind.ADJUSTMENT, -3),
        (CardKind.ADJUSTMENT, 1),
        (CardKind.WRITE_OFF, -4),
    ]
    summary = summarise(5, movements, 39)
    assert (summary.dispensed, summary.transfers_out, summary.adjustments, summary.written_off) == (
        12,
        8,
        -2,
        4,
    )
    assert summary.reconciles
    assert not summarise(5, movements, 40).reconciles
    with pytest.raises(ValueError, match="dispense"):
        summarise(0, [(CardKind.DISPENSE, 3)], 3)  # a dispense is a debit


@given(
    st.lists(
        st.tuples(st.sampled_from(list(CardKind)), st.integers(min_value=1, max_value=100)),
        max_size=30,
    )
)
def test_any_card_of_correctly_signed_lines_reconciles_with_its_sum(
    lines: list[tuple[CardKind, int]],
) -> None:
    debits = {CardKind.DISPENSE, CardKind.TRANSFER_OUT, CardKind.WRITE_OFF}
    signed = [(kind, -q if kind in debits else q) for kind, q in lines]
    assert summarise(7, signed, 7 + sum(q for _, q in signed)).reconciles
