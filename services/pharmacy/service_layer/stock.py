"""Stock movements entered by people: receipts, adjustments, physical counts, write-offs.

Each is one unit of work: lock the items, post stock-card lines, publish the events, check
availability and the re-order point, commit. A delisted drug cannot be received, and a
facility receives only drugs its tier and type may hold; anything already on the shelf can
always be adjusted, counted or written off.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from libs.directory import KnownFacility
from libs.events.catalogue.pharmacy import (
    AdjustmentReason,
    CountedLine,
    ReceiptSource,
    StockAdjusted,
    StockCounted,
    StockReceived,
    StockWrittenOff,
    WriteOffReason,
)
from libs.events.catalogue.values import FacilityTier, FacilityType
from libs.events.payload import cents
from services.pharmacy.adapters.ledger import LotMismatch
from services.pharmacy.adapters.schema import StockItem
from services.pharmacy.domain.formulary import refusal_for
from services.pharmacy.domain.stock import CardKind, InsufficientStock, LotBalance
from services.pharmacy.service_layer.availability import refresh_availability
from services.pharmacy.service_layer.errors import Conflict, Invalid, NotFound
from services.pharmacy.service_layer.formulary import require_drug
from services.pharmacy.service_layer.ids import new_id
from services.pharmacy.service_layer.replenishment import replenish
from services.pharmacy.service_layer.unit_of_work import PharmacyUnitOfWork

__all__ = [
    "Adjustment",
    "Count",
    "Receipt",
    "WriteOff",
    "adjust_stock",
    "count_stock",
    "receive_stock",
    "require_facility",
    "write_off_stock",
]


@dataclass(frozen=True)
class Receipt:
    drug_code: str
    lot_number: str
    expiry_date: date
    quantity: int
    unit_cost: Decimal | None = None  # the unified price when not given
    source: ReceiptSource = ReceiptSource.PURCHASE
    reference_id: str | None = None
    receipt_id: str | None = None


@dataclass(frozen=True)
class Adjustment:
    drug_code: str
    lot_number: str
    quantity_delta: int
    reason: AdjustmentReason
    expiry_date: date | None = None  # needed only for stock found in a lot not known here


@dataclass(frozen=True)
class CountLine:
    drug_code: str
    lot_number: str
    expiry_date: date
    counted_quantity: int


@dataclass(frozen=True)
class Count:
    lines: list[CountLine]


@dataclass(frozen=True)
class WriteOff:
    drug_code: str
    lot_number: str
    quantity: int
    reason: WriteOffReason


def require_facility(uow: PharmacyUnitOfWork, facility_id: str) -> KnownFacility:
    """The member facility, or 404 when this service does not know it (yet)."""
    facility = uow.directory.get(facility_id)
    if facility is None or not facility.active:
        raise NotFound("unknown_facility", f"facility {facility_id} is not a member known here")
    return facility


def _existing_lot(
    uow: PharmacyUnitOfWork, facility_id: str, drug_code: str, lot_number: str
) -> LotBalance:
    for lot in uow.stock.lots(facility_id, [drug_code])[drug_code]:
        if lot.lot_number == lot_number:
            return lot
    raise NotFound("unknown_lot", f"{facility_id} holds no lot {lot_number} of {drug_code}")


def _after_debit(
    uow: PharmacyUnitOfWork, facility: KnownFacility, items: Mapping[str, StockItem]
) -> None:
    """Announce availability changes and check the re-order point of what was touched."""
    available = refresh_availability(uow, facility.facility_id, items)
    replenish(uow, facility, available)


def receive_stock(uow: PharmacyUnitOfWork, facility_id: str, receipt: Receipt) -> StockReceived:
    """A lot arrives from a purchase, an opening balance or a return."""
    with uow:
        event = receive_in(uow, facility_id, receipt)
        uow.commit()
        return event


def receive_in(uow: PharmacyUnitOfWork, facility_id: str, receipt: Receipt) -> StockReceived:
    """:func:`receive_stock` inside an open unit of work (the opening-stock loader uses it)."""
    facility = require_facility(uow, facility_id)
    drug = require_drug(uow, receipt.drug_code, in_body=True)
    refusal = refusal_for(drug, FacilityTier(facility.tier), FacilityType(facility.facility_type))
    if refusal is not None:
        error = Conflict if refusal.reason.value == "delisted" else Invalid
        raise error(refusal.reason.value, f"{facility_id}: {refusal.detail}")
    if receipt.expiry_date < uow.today():
        raise Invalid("expired_lot", f"lot {receipt.lot_number} expired on {receipt.expiry_date}")
    now = uow.now()
    cost = receipt.unit_cost if receipt.unit_cost is not None else drug.unit_price
    receipt_id = receipt.receipt_id or new_id("RCV")
    if receipt.receipt_id and uow.stock.has_reference("receipt", receipt.receipt_id):
        raise Conflict("duplicate_receipt", f"receipt {receipt.receipt_id} was already booked")
    items = uow.stock.lock_items(facility_id, [drug.code], now)
    try:
        lot = uow.stock.ensure_lot(
            facility_id, drug.code, receipt.lot_number, receipt.expiry_date, cost, now
        )
    except LotMismatch as exc:
        raise Conflict("lot_mismatch", str(exc)) from None
    uow.stock.post(
        facility_id,
        drug.code,
        lot,
        CardKind.RECEIPT,
        receipt.quantity,
        reference_type="receipt",
        reference_id=receipt_id,
        at=now,
        reason=receipt.source.value,
        unit_cost=cost,
    )
    event = StockReceived(
        receipt_id=receipt_id,
        facility_id=facility_id,
        drug_code=drug.code,
        lot_number=receipt.lot_number,
        expiry_date=receipt.expiry_date,
        quantity=receipt.quantity,
        unit_cost=cost,
        source=receipt.source,
        reference_id=receipt.reference_id,
        received_at=now,
    )
    uow.publish(event)
    refresh_availability(uow, facility_id, items)
    return event


def adjust_stock(
    uow: PharmacyUnitOfWork, facility_id: str, adjustment: Adjustment
) -> StockAdjusted:
    """A balance adjustment with its reason; taking more than the lot holds is refused."""
    if adjustment.quantity_delta == 0:
        raise Invalid("invalid_quantity", "an adjustment changes the balance")
    with uow:
        facility = require_facility(uow, facility_id)
        drug = require_drug(uow, adjustment.drug_code, in_body=True)
        now = uow.now()
        items = uow.stock.lock_items(facility_id, [drug.code], now)
        if adjustment.quantity_delta > 0 and adjustment.expiry_date is not None:
            try:
                lot = uow.stock.ensure_lot(
                    facility_id,
                    drug.code,
                    adjustment.lot_number,
                    adjustment.expiry_date,
                    drug.unit_price,
                    now,
                )
            except LotMismatch as exc:
                raise Conflict("lot_mismatch", str(exc)) from None
        else:
            lot = _existing_lot(uow, facility_id, drug.code, adjustment.lot_number)
        event = _adjust(
            uow,
            facility_id,
            drug.code,
            lot,
            adjustment.quantity_delta,
            adjustment.reason,
            new_id("ADJ"),
            None,
        )
        _after_debit(uow, facility, items)
        uow.commit()
        return event


def _adjust(
    uow: PharmacyUnitOfWork,
    facility_id: str,
    drug_code: str,
    lot: LotBalance,
    delta: int,
    reason: AdjustmentReason,
    adjustment_id: str,
    count_id: str | None,
) -> StockAdjusted:
    now = uow.now()
    try:
        uow.stock.post(
            facility_id,
            drug_code,
            lot,
            CardKind.ADJUSTMENT,
            delta,
            reference_type="count" if count_id else "adjustment",
            reference_id=count_id or adjustment_id,
            at=now,
            reason=reason.value,
        )
    except InsufficientStock:
        raise Conflict(
            "insufficient_stock",
            f"lot {lot.lot_number} of {drug_code} holds {lot.on_hand}; cannot take {-delta}",
            details={"on_hand": lot.on_hand},
        ) from None
    event = StockAdjusted(
        adjustment_id=adjustment_id,
        facility_id=facility_id,
        drug_code=drug_code,
        lot_number=lot.lot_number,
        expiry_date=lot.expiry_date,
        quantity_delta=delta,
        reason=reason,
        unit_cost=lot.unit_cost,
        value_delta=cents(lot.unit_cost * delta),
        count_id=count_id,
        adjusted_at=now,
    )
    uow.publish(event)
    return event


def count_stock(uow: PharmacyUnitOfWork, facility_id: str, count: Count) -> StockCounted:
    """A physical inventory (盘点): each counted lot is set to what was counted, by an
    adjustment line (reason count_correction) for every difference. Lots not counted stay."""
    keys = [(line.drug_code, line.lot_number) for line in count.lines]
    if not keys:
        raise Invalid("no_lines", "a count needs at least one line")
    if len(keys) != len(set(keys)):
        raise Invalid("duplicate_line", "a lot appears twice in the count")
    with uow:
        facility = require_facility(uow, facility_id)
        drugs = {code: require_drug(uow, code, in_body=True) for code, _ in keys}
        now = uow.now()
        count_id = new_id("CNT")
        items = uow.stock.lock_items(facility_id, drugs, now)
        counted: list[CountedLine] = []
        for line in count.lines:
            try:
                lot = uow.stock.ensure_lot(
                    facility_id,
                    line.drug_code,
                    line.lot_number,
                    line.expiry_date,
                    drugs[line.drug_code].unit_price,
                    now,
                )
            except LotMismatch as exc:
                raise Conflict("lot_mismatch", str(exc)) from None
            system = lot.on_hand
            counted.append(
                CountedLine(
                    drug_code=line.drug_code,
                    lot_number=line.lot_number,
                    expiry_date=line.expiry_date,
                    system_quantity=system,
                    counted_quantity=line.counted_quantity,
                )
            )
            if line.counted_quantity != system:
                _adjust(
                    uow,
                    facility_id,
                    line.drug_code,
                    lot,
                    line.counted_quantity - system,
                    AdjustmentReason.COUNT_CORRECTION,
                    new_id("ADJ"),
                    count_id,
                )
        event = StockCounted(
            count_id=count_id, facility_id=facility_id, lines=counted, counted_at=now
        )
        uow.publish(event)
        _after_debit(uow, facility, items)
        uow.commit()
        return event


def write_off_stock(
    uow: PharmacyUnitOfWork, facility_id: str, write_off: WriteOff
) -> StockWrittenOff:
    """Write a quantity of one lot off (expired, damaged, recalled); finance posts the loss."""
    with uow:
        facility = require_facility(uow, facility_id)
        drug = require_drug(uow, write_off.drug_code, in_body=True)
        now = uow.now()
        items = uow.stock.lock_items(facility_id, [drug.code], now)
        lot = _existing_lot(uow, facility_id, drug.code, write_off.lot_number)
        event = write_off_lot(
            uow, facility_id, drug.code, lot, write_off.quantity, write_off.reason
        )
        _after_debit(uow, facility, items)
        uow.commit()
        return event


def write_off_lot(
    uow: PharmacyUnitOfWork,
    facility_id: str,
    drug_code: str,
    lot: LotBalance,
    quantity: int,
    reason: WriteOffReason,
) -> StockWrittenOff:
    """Post a write-off of ``quantity`` from ``lot`` (items locked by the caller)."""
    now = uow.now()
    write_off_id = new_id("WOF")
    try:
        uow.stock.post(
            facility_id,
            drug_code,
            lot,
            CardKind.WRITE_OFF,
            -quantity,
            reference_type="write_off",
            reference_id=write_off_id,
            at=now,
            reason=reason.value,
        )
    except InsufficientStock:
        raise Conflict(
            "insufficient_stock",
            f"lot {lot.lot_number} of {drug_code} holds {lot.on_hand}; cannot write off {quantity}",
            details={"on_hand": lot.on_hand},
        ) from None
    event = StockWrittenOff(
        write_off_id=write_off_id,
        facility_id=facility_id,
        drug_code=drug_code,
        lot_number=lot.lot_number,
        expiry_date=lot.expiry_date,
        quantity=quantity,
        unit_cost=lot.unit_cost,
        value=cents(lot.unit_cost * quantity),
        reason=reason,
        written_off_at=now,
    )
    uow.publish(event)
    return event
