"""Stock per facility, drug and lot, and the stock card it is derived from.

Pure domain. Every movement is an append-only line on the stock card (credit, debit or
balance adjustment); the balance of a lot is the sum of its lines and never negative. A lot
is usable through its expiry date: on the day after, it is not stock any more.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

__all__ = [
    "CardKind",
    "CardSummary",
    "InsufficientStock",
    "LotBalance",
    "Pick",
    "available",
    "pick_fefo",
    "summarise",
]


class CardKind(StrEnum):
    """The kinds of stock-card line."""

    RECEIPT = "receipt"  # credit: purchase, opening balance, return
    DISPENSE = "dispense"  # debit: a prescription line
    TRANSFER_OUT = "transfer_out"  # debit: shipped to another member
    TRANSFER_IN = "transfer_in"  # credit: received from another member
    ADJUSTMENT = "adjustment"  # either sign, with a reason (also from a physical count)
    WRITE_OFF = "write_off"  # debit: expired, damaged, recalled


#: The sign a line of each kind must have (adjustments may have either).
DEBITS = frozenset({CardKind.DISPENSE, CardKind.TRANSFER_OUT, CardKind.WRITE_OFF})
CREDITS = frozenset({CardKind.RECEIPT, CardKind.TRANSFER_IN})


class InsufficientStock(Exception):
    """A debit larger than the stock it would draw on (an over-issue)."""

    def __init__(self, drug_code: str, wanted: int, available: int, detail: str = "") -> None:
        super().__init__(detail or f"{drug_code}: {wanted} wanted, only {available} available")
        self.drug_code = drug_code
        self.wanted = wanted
        self.available = available


@dataclass
class LotBalance:
    """One lot of one drug at one facility, as the stock card says now."""

    lot_number: str
    expiry_date: date
    on_hand: int
    unit_cost: Decimal

    def expired(self, today: date) -> bool:
        """Past its expiry date: not stock any more (usable through the date itself)."""
        return self.expiry_date < today


@dataclass(frozen=True)
class Pick:
    """A quantity taken from one lot."""

    lot_number: str
    expiry_date: date
    quantity: int
    unit_cost: Decimal


def available(lots: Iterable[LotBalance], today: date, *, held_back: int = 0) -> int:
    """Unexpired stock on hand, less what is held back (others' reservations), never < 0."""
    usable = sum(lot.on_hand for lot in lots if not lot.expired(today) and lot.on_hand > 0)
    return max(0, usable - max(0, held_back))


def pick_fefo(
    lots: Sequence[LotBalance], quantity: int, today: date, *, held_back: int = 0
) -> tuple[list[Pick], int]:
    """Take up to ``quantity`` first-expiry-first-out; returns the picks and what is short.

    Expired lots are never picked; ``held_back`` packs stay on the shelf (stock reserved for
    someone else). The lots are not changed: the caller posts the picks.
    """
    if quantity <= 0:
        raise ValueError("quantity must be positive")
    to_take = min(quantity, available(lots, today, held_back=held_back))
    picks: list[Pick] = []
    ordered = sorted(
        (lot for lot in lots if not lot.expired(today) and lot.on_hand > 0),
        key=lambda lot: (lot.expiry_date, lot.lot_number),
    )
    for lot in ordered:
        if to_take == 0:
            break
        taken = min(lot.on_hand, to_take)
        picks.append(Pick(lot.lot_number, lot.expiry_date, taken, lot.unit_cost))
        to_take -= taken
    short = quantity - sum(p.quantity for p in picks)
    return picks, short


@dataclass(frozen=True)
class CardSummary:
    """A stock card over a period: opening + credits − debits ± adjustments = closing."""

    opening: int
    receipts: int
    transfers_in: int
    dispensed: int
    transfers_out: int
    adjustments: int
    written_off: int
    closing: int

    @property
    def reconciles(self) -> bool:
        return (
            self.opening
            + self.receipts
            + self.transfers_in
            - self.dispensed
            - self.transfers_out
            + self.adjustments
            - self.written_off
            == self.closing
        )


def summarise(opening: int, movements: Iterable[tuple[CardKind, int]], closing: int) -> CardSummary:
    """Totals of each kind of line (debits as positive quantities) against ``closing``.

    ``movements`` are ``(kind, signed quantity)`` as the card stores them; ``closing`` is the
    balance the lots hold, so a card that was edited or a balance that drifted shows up as
    ``reconciles`` being false.
    """
    totals = {kind: 0 for kind in CardKind}
    for kind, quantity in movements:
        if (kind in DEBITS and quantity > 0) or (kind in CREDITS and quantity < 0):
            raise ValueError(f"a {kind.value} line cannot be {quantity:+d}")
        totals[kind] += quantity
    return CardSummary(
        opening=opening,
        receipts=totals[CardKind.RECEIPT],
        transfers_in=totals[CardKind.TRANSFER_IN],
        dispensed=-totals[CardKind.DISPENSE],
        transfers_out=-totals[CardKind.TRANSFER_OUT],
        adjustments=totals[CardKind.ADJUSTMENT],
        written_off=-totals[CardKind.WRITE_OFF],
        closing=closing,
    )
