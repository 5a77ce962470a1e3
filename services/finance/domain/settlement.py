"""Internal settlement between members: what each owes the others, paid once a period.

Transfers, referral fees and session fees accrue as due-to/due-from balances between
members as they happen; a settlement run pays them: each member settles its total payable
and receivable, and its bank moves by the net.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from services.finance.domain import accounts as acc
from services.finance.domain.journal import ZERO, Book, Line, cr, dr

__all__ = ["Charge", "settlement_lines", "summarise", "total_of"]


@dataclass(frozen=True)
class Charge:
    payer: str
    payee: str
    kind: str
    amount: Decimal


def summarise(charges: Iterable[Charge]) -> list[Charge]:
    """Charges added up per payer, payee and kind, in a stable order."""
    totals: dict[tuple[str, str, str], Decimal] = defaultdict(lambda: ZERO)
    for charge in charges:
        totals[(charge.payer, charge.payee, charge.kind)] += charge.amount
    return [Charge(p, q, k, amount) for (p, q, k), amount in sorted(totals.items()) if amount]


def total_of(charges: Iterable[Charge]) -> Decimal:
    """What a run pays in all."""
    return sum((c.amount for c in charges), ZERO)


def settlement_lines(charges: Iterable[Charge], books: Mapping[str, Book]) -> list[Line]:
    """Each member pays what it owes and collects what it is owed; the bank takes the net."""
    payable: dict[str, Decimal] = defaultdict(lambda: ZERO)
    receivable: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for charge in charges:
        payable[charge.payer] += charge.amount
        receivable[charge.payee] += charge.amount
    lines: list[Line] = []
    for facility in sorted(set(payable) | set(receivable)):
        book = books[facility]
        owed, due = payable[facility], receivable[facility]
        lines += [
            dr(book, acc.DUE_TO_MEMBERS, owed),
            cr(book, acc.DUE_FROM_MEMBERS, due),
            dr(book, acc.BANK, due - owed),
        ]
    return lines
