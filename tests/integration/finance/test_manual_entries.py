"""Manual entries and reversals: refused unless balanced, known and in an open period."""

from __future__ import annotations

from decimal import Decimal

import pytest

from libs.platform.refusals import Invalid
from services.finance.service_layer import manual, periods
from services.finance.service_layer.ledger import PeriodIsClosed
from tests.support.finance import balance, current_period, fuow, totals_by_book
from tests.support.harness import HandlerHarness


def line(code: str, debit: str = "0", credit: str = "0", *, facility=None, community=None):
    return manual.ManualLine(code, facility, community, Decimal(debit), Decimal(credit))


def test_a_manual_entry_is_posted_and_reversed_once(finance: HandlerHarness):
    posted = manual.post_manual_entry(
        fuow(finance),
        [
            line("1002", "500.00", facility="QS-T01"),
            line("3001", credit="500.00", facility="QS-T01"),
        ],
        "opening bank balance",
        "2026-06",
    )
    assert balance(finance, "1002", facility_id="QS-T01") == Decimal("500.00")
    reversal = manual.reverse_entry(fuow(finance), posted.entry_id, "wrong member")
    assert reversal.reverses_entry_id == posted.entry_id
    assert reversal.period == current_period()
    assert balance(finance, "1002", facility_id="QS-T01") == 0
    with pytest.raises(manual.AlreadyReversed):
        manual.reverse_entry(fuow(finance), posted.entry_id, "again")
    with pytest.raises(manual.EntryNotFound):
        manual.reverse_entry(fuow(finance), "JE-none", "no such entry")


@pytest.mark.parametrize(
    ("lines", "error"),
    [
        (
            [
                line("1002", "10.00", facility="QS-T01"),
                line("3001", credit="9.99", facility="QS-T01"),
            ],
            "unbalanced",
        ),
        # balanced in total, not within each member's books
        (
            [
                line("1002", "10.00", facility="QS-T01"),
                line("3001", credit="10.00", facility="QS-T02"),
            ],
            "unbalanced",
        ),
        (
            [
                line("9999", "10.00", facility="QS-T01"),
                line("3001", credit="10.00", facility="QS-T01"),
            ],
            "unknown_account",
        ),
        # a pool account in a member's books
        (
            [
                line("2201", "10.00", facility="QS-T01"),
                line("3001", credit="10.00", facility="QS-T01"),
            ],
            "unknown_account",
        ),
        (
            [
                line("1002", "10.00", facility="QS-NONE"),
                line("3001", credit="10.00", facility="QS-NONE"),
            ],
            "unknown_book",
        ),
        (
            [
                line("1003", "1.00", community="QS-MC9"),
                line("1221", credit="1.00", community="QS-MC9"),
            ],
            "unknown_book",
        ),
        (
            [
                line("1002", "1.005", facility="QS-T01"),
                line("3001", credit="1.005", facility="QS-T01"),
            ],
            "unbalanced",
        ),
    ],
)
def test_a_wrong_manual_entry_is_refused(finance: HandlerHarness, lines, error):
    with pytest.raises(Invalid) as refused:
        manual.post_manual_entry(fuow(finance), lines, "wrong", "2026-06")
    assert refused.value.code == error
    assert finance.published("finance.journal_entry.posted.v1") == []


def test_a_closed_period_refuses_manual_entries(finance: HandlerHarness):
    periods.close_period(fuow(finance), "2026-07")
    with pytest.raises(PeriodIsClosed):
        manual.post_manual_entry(
            fuow(finance),
            [
                line("1003", "1.00", community="QS-MC1"),
                line("1221", credit="1.00", community="QS-MC1"),
            ],
            "too late",
            "2026-07",
        )
    # Nothing was posted: no work earned points, so the close paid no performance pay either.
    assert finance.published("finance.journal_entry.posted.v1") == []
    assert totals_by_book(finance) == {}
