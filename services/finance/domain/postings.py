"""Posting rules for what happens at the members: drugs dispensed, moved between members,
received, adjusted and written off; internal fees for referrals and expert sessions; repeat
tests avoided by recognising an earlier result (a memorandum, not money).

Drugs move between members at the formulary's unified price (统一价格): the receiver's
inventory and its debt to the sender are the unified price; the sender gives up the lots at
their cost, and any difference is its internal transfer margin.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from libs.events.catalogue.pharmacy import LotQuantity, ReceiptSource
from libs.events.payload import cents
from services.finance.domain import accounts as acc
from services.finance.domain.journal import ZERO, Book, Line, cr, dr

__all__ = [
    "adjustment_lines",
    "dispense_lines",
    "internal_fee_lines",
    "lots_cost",
    "receipt_lines",
    "recognition_saving_lines",
    "transfer_lines",
    "write_off_lines",
]


def lots_cost(lots: Iterable[LotQuantity], unit_price: Decimal, quantity: int) -> Decimal:
    """The cost of packs taken from ``lots``: each lot at its own unit cost, or at the unified
    price when the lot carries none; without lots, ``quantity`` at the unified price."""
    lots = list(lots)
    if not lots:
        return cents(unit_price * quantity)
    return sum(
        (
            cents((lot.unit_cost if lot.unit_cost is not None else unit_price) * lot.quantity)
            for lot in lots
        ),
        ZERO,
    )


def dispense_lines(member: Book, revenue: Decimal, cost: Decimal) -> list[Line]:
    """Drug revenue at the unified price owed by the patient; the lots' cost leaves stock."""
    return [
        dr(member, acc.PATIENT_RECEIVABLE, revenue),
        cr(member, acc.DRUG_REVENUE, revenue),
        dr(member, acc.DRUG_COST, cost),
        cr(member, acc.INVENTORY, cost),
    ]


def transfer_lines(
    sender: Book, receiver: Book, value: Decimal, sender_cost: Decimal
) -> list[Line]:
    """A transfer received: ``value`` (at the unified price) owed by receiver to sender."""
    return [
        dr(receiver, acc.INVENTORY, value),
        cr(receiver, acc.DUE_TO_MEMBERS, value),
        dr(sender, acc.DUE_FROM_MEMBERS, value),
        cr(sender, acc.INVENTORY, sender_cost),
        cr(sender, acc.TRANSFER_MARGIN, value - sender_cost),
    ]


def write_off_lines(member: Book, value: Decimal) -> list[Line]:
    """Expired, damaged or recalled stock is a loss."""
    return [dr(member, acc.INVENTORY_LOSS, value), cr(member, acc.INVENTORY, value)]


def receipt_lines(member: Book, value: Decimal, source: ReceiptSource) -> list[Line]:
    """Stock received: bought (owed to the supplier), an opening balance (net assets), or a
    return to stock (the cost of drugs dispensed comes back)."""
    counterpart = {
        ReceiptSource.PURCHASE: acc.SUPPLIER_PAYABLE,
        ReceiptSource.OPENING_BALANCE: acc.NET_ASSETS,
        ReceiptSource.RETURN: acc.DRUG_COST,
    }[source]
    return [dr(member, acc.INVENTORY, value), cr(member, counterpart, value)]


def adjustment_lines(member: Book, value_delta: Decimal) -> list[Line]:
    """A stock-taking difference: a shortfall is a loss, a surplus reduces losses."""
    return [dr(member, acc.INVENTORY, value_delta), cr(member, acc.INVENTORY_LOSS, value_delta)]


def internal_fee_lines(payer: Book, payee: Book, fee: Decimal) -> list[Line]:
    """An internal fee (referral, expert session): an expense of the payer owed to the payee."""
    return [
        dr(payer, acc.INTERNAL_FEES_PAID, fee),
        cr(payer, acc.DUE_TO_MEMBERS, fee),
        dr(payee, acc.DUE_FROM_MEMBERS, fee),
        cr(payee, acc.INTERNAL_FEES_EARNED, fee),
    ]


def recognition_saving_lines(member: Book, avoided_cost: Decimal) -> list[Line]:
    """A repeat test avoided (检查检验结果互认): its price, in the ordering member's memorandum
    accounts. Nothing was spent or received, so no balance-sheet account moves."""
    return [
        dr(member, acc.RECOGNITION_SAVINGS, avoided_cost),
        cr(member, acc.SAVINGS_MEMORANDUM, avoided_cost),
    ]
