"""Drugs in the books: dispensed, moved between members, received, counted, written off.

Each cause is posted once: a second copy of the same dispensing, transfer, receipt or
write-off (even under another event id) finds its entry by source key and posts nothing.
"""

from __future__ import annotations

from datetime import datetime

from libs.events.catalogue.finance import EntryType, SettlementKind
from libs.events.catalogue.pharmacy import (
    PrescriptionDispensed,
    StockAdjusted,
    StockReceived,
    StockWrittenOff,
    TransferReceived,
)
from libs.events.payload import cents
from services.finance.adapters.schema import InternalCharge
from services.finance.domain import postings
from services.finance.domain.journal import ZERO, Line, draft
from services.finance.domain.periods import period_of
from services.finance.service_layer.ledger import PostingPeriod, entry_exists, post, posting_period
from services.finance.service_layer.unit_of_work import FinanceUnitOfWork

__all__ = [
    "record_adjustment",
    "record_dispensing",
    "record_receipt",
    "record_transfer",
    "record_write_off",
]


def _post_once(
    uow: FinanceUnitOfWork,
    key: str,
    entry_type: EntryType,
    memo: str,
    lines: list[Line],
    occurred_at: datetime,
) -> PostingPeriod | None:
    """Post unless ``key`` was posted before or nothing is left to post."""
    entry = draft(entry_type, memo, lines)
    if entry is None or entry_exists(uow, key):
        return None
    at = posting_period(uow, period_of(occurred_at, uow.clock))
    post(uow, entry, at, occurred_at=occurred_at, source_key=key)
    return at


def record_dispensing(rx: PrescriptionDispensed, uow: FinanceUnitOfWork) -> None:
    """Drug revenue at the unified price, and the cost of the lots that left stock."""
    member = uow.member(rx.facility_id)
    revenue = sum((line.amount for line in rx.lines), ZERO)
    cost = sum(
        (
            postings.lots_cost(line.lots, line.unit_price, line.quantity_dispensed)
            for line in rx.lines
            if line.quantity_dispensed
        ),
        ZERO,
    )
    _post_once(
        uow,
        # a prescription can be dispensed in parts; each dispensing is its own cause
        f"dispense:{rx.prescription_id}:{rx.dispensed_at.isoformat()}",
        EntryType.DISPENSE,
        f"Prescription {rx.prescription_id} dispensed at {rx.facility_id}",
        postings.dispense_lines(member, revenue, cost),
        rx.dispensed_at,
    )


def record_transfer(transfer: TransferReceived, uow: FinanceUnitOfWork) -> None:
    """A transfer received settles at the unified price: the receiver owes the sender
    quantity × unified price for every line."""
    if transfer.from_facility_id == transfer.to_facility_id:
        return
    sender = uow.member(transfer.from_facility_id)
    receiver = uow.member(transfer.to_facility_id)
    value = ZERO
    sender_cost = ZERO
    for line in transfer.lines:
        packs = sum(lot.quantity for lot in line.lots)
        value += cents(line.unit_price * packs)
        sender_cost += postings.lots_cost(line.lots, line.unit_price, packs)
    key = f"transfer:{transfer.transfer_id}"
    at = _post_once(
        uow,
        key,
        EntryType.TRANSFER_SETTLEMENT,
        f"Transfer {transfer.transfer_id} {transfer.from_facility_id} -> "
        f"{transfer.to_facility_id} at the unified price",
        postings.transfer_lines(sender, receiver, value, sender_cost),
        transfer.received_at,
    )
    if at is not None:
        uow.session.add(
            InternalCharge(
                source_key=key,
                kind=SettlementKind.DRUG_TRANSFER.value,
                period=at.period,
                payer_facility_id=transfer.to_facility_id,
                payee_facility_id=transfer.from_facility_id,
                amount=value,
                occurred_at=transfer.received_at,
            )
        )


def record_write_off(w: StockWrittenOff, uow: FinanceUnitOfWork) -> None:
    """Expired, damaged or recalled stock: its value is a loss."""
    _post_once(
        uow,
        f"write_off:{w.write_off_id}",
        EntryType.WRITE_OFF,
        f"Write-off {w.write_off_id} at {w.facility_id} ({w.reason.value})",
        postings.write_off_lines(uow.member(w.facility_id), w.value),
        w.written_off_at,
    )


def record_receipt(r: StockReceived, uow: FinanceUnitOfWork) -> None:
    """Stock received by purchase, as an opening balance, or returned to stock, at cost."""
    _post_once(
        uow,
        f"receipt:{r.receipt_id}",
        EntryType.STOCK_RECEIPT,
        f"Stock receipt {r.receipt_id} at {r.facility_id} ({r.source.value})",
        postings.receipt_lines(
            uow.member(r.facility_id), cents(r.unit_cost * r.quantity), r.source
        ),
        r.received_at,
    )


def record_adjustment(a: StockAdjusted, uow: FinanceUnitOfWork) -> None:
    """A stock-taking difference, at its value."""
    _post_once(
        uow,
        f"adjustment:{a.adjustment_id}",
        EntryType.STOCK_ADJUSTMENT,
        f"Stock adjustment {a.adjustment_id} at {a.facility_id} ({a.reason.value})",
        postings.adjustment_lines(uow.member(a.facility_id), a.value_delta),
        a.adjusted_at,
    )
