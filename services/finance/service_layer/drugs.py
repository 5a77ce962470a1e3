"""Drugs in the books: dispensed, moved between members, received, counted, written off.

Each cause is posted once: a second copy of the same dispensing, transfer, receipt or
write-off (even under another event id, even in the same set) finds its entry by source key
and posts nothing. Every handler here takes a set of records (``posting_sets.py``): the
consumer hands it a batch's records of its type at once, or a set of one.
"""

from __future__ import annotations

from decimal import Decimal
from functools import partial

from libs.events.catalogue.finance import EntryType, SettlementKind
from libs.events.catalogue.pharmacy import (
    PrescriptionDispensed,
    StockAdjusted,
    StockReceived,
    StockWrittenOff,
    TransferReceived,
)
from libs.events.consuming.sets import RecordSet
from libs.events.payload import cents
from services.finance.adapters.schema import InternalCharge
from services.finance.domain import postings
from services.finance.domain.journal import ZERO, draft
from services.finance.service_layer.posting_sets import Cause, post_each
from services.finance.service_layer.unit_of_work import FinanceUnitOfWork

__all__ = [
    "record_adjustment",
    "record_dispensing",
    "record_receipt",
    "record_transfer",
    "record_write_off",
]


def record_dispensing(records: RecordSet[PrescriptionDispensed], uow: FinanceUnitOfWork) -> None:
    """Drug revenue at the unified price, and the cost of the lots that left stock; a set of
    dispensings at once (the province's peak is hundreds a second)."""
    post_each(uow, records, partial(_dispensing, uow), facilities=lambda rx: [rx.facility_id])


def _dispensing(uow: FinanceUnitOfWork, rx: PrescriptionDispensed) -> Cause:
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
    return Cause(
        # a prescription can be dispensed in parts; each dispensing is its own cause
        f"dispense:{rx.prescription_id}:{rx.dispensed_at.isoformat()}",
        draft(
            EntryType.DISPENSE,
            f"Prescription {rx.prescription_id} dispensed at {rx.facility_id}",
            postings.dispense_lines(member, revenue, cost),
        ),
        rx.dispensed_at,
    )


def record_transfer(records: RecordSet[TransferReceived], uow: FinanceUnitOfWork) -> None:
    """A transfer received settles at the unified price: the receiver owes the sender
    quantity × unified price for every line, an internal charge until a settlement run."""
    placed = post_each(
        uow,
        records,
        partial(_transfer, uow),
        facilities=lambda t: [t.from_facility_id, t.to_facility_id],
    )
    received = {event.id: event.data for event in records.events}
    uow.records.add_charges(
        [
            InternalCharge(
                source_key=_transfer_key(received[event_id]),
                kind=SettlementKind.DRUG_TRANSFER.value,
                period=at.period,
                payer_facility_id=received[event_id].to_facility_id,
                payee_facility_id=received[event_id].from_facility_id,
                amount=_transfer_value(received[event_id])[0],
                occurred_at=received[event_id].received_at,
            )
            for event_id, at in placed.items()
        ]
    )


def _transfer(uow: FinanceUnitOfWork, transfer: TransferReceived) -> Cause | None:
    if transfer.from_facility_id == transfer.to_facility_id:
        return None
    sender = uow.member(transfer.from_facility_id)
    receiver = uow.member(transfer.to_facility_id)
    value, sender_cost = _transfer_value(transfer)
    return Cause(
        _transfer_key(transfer),
        draft(
            EntryType.TRANSFER_SETTLEMENT,
            f"Transfer {transfer.transfer_id} {transfer.from_facility_id} -> "
            f"{transfer.to_facility_id} at the unified price",
            postings.transfer_lines(sender, receiver, value, sender_cost),
        ),
        transfer.received_at,
    )


def _transfer_key(transfer: TransferReceived) -> str:
    return f"transfer:{transfer.transfer_id}"


def _transfer_value(transfer: TransferReceived) -> tuple[Decimal, Decimal]:
    """What the receiver owes (Σ cents(packs × unified price) per line), and the sender's
    cost of the lots it gave up."""
    value = ZERO
    sender_cost = ZERO
    for line in transfer.lines:
        packs = sum(lot.quantity for lot in line.lots)
        value += cents(line.unit_price * packs)
        sender_cost += postings.lots_cost(line.lots, line.unit_price, packs)
    return value, sender_cost


def record_write_off(records: RecordSet[StockWrittenOff], uow: FinanceUnitOfWork) -> None:
    """Expired, damaged or recalled stock: its value is a loss."""
    post_each(uow, records, partial(_write_off, uow), facilities=lambda w: [w.facility_id])


def _write_off(uow: FinanceUnitOfWork, w: StockWrittenOff) -> Cause:
    return Cause(
        f"write_off:{w.write_off_id}",
        draft(
            EntryType.WRITE_OFF,
            f"Write-off {w.write_off_id} at {w.facility_id} ({w.reason.value})",
            postings.write_off_lines(uow.member(w.facility_id), w.value),
        ),
        w.written_off_at,
    )


def record_receipt(records: RecordSet[StockReceived], uow: FinanceUnitOfWork) -> None:
    """Stock received by purchase, as an opening balance, or returned to stock, at cost (a
    county's opening stock is tens of thousands of receipts at once)."""
    post_each(uow, records, partial(_receipt, uow), facilities=lambda r: [r.facility_id])


def _receipt(uow: FinanceUnitOfWork, r: StockReceived) -> Cause:
    return Cause(
        f"receipt:{r.receipt_id}",
        draft(
            EntryType.STOCK_RECEIPT,
            f"Stock receipt {r.receipt_id} at {r.facility_id} ({r.source.value})",
            postings.receipt_lines(
                uow.member(r.facility_id), cents(r.unit_cost * r.quantity), r.source
            ),
        ),
        r.received_at,
    )


def record_adjustment(records: RecordSet[StockAdjusted], uow: FinanceUnitOfWork) -> None:
    """A stock-taking difference, at its value."""
    post_each(uow, records, partial(_adjustment, uow), facilities=lambda a: [a.facility_id])


def _adjustment(uow: FinanceUnitOfWork, a: StockAdjusted) -> Cause:
    return Cause(
        f"adjustment:{a.adjustment_id}",
        draft(
            EntryType.STOCK_ADJUSTMENT,
            f"Stock adjustment {a.adjustment_id} at {a.facility_id} ({a.reason.value})",
            postings.adjustment_lines(uow.member(a.facility_id), a.value_delta),
        ),
        a.adjusted_at,
    )
