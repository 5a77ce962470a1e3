"""Dispensing a prescription issued by a facility's HIS (the ``ingestion.prescription`` topic).

1. A prescription already handled (the HIS sent it again, under a new event id) changes
   nothing: the prescription id is remembered.
2. An unknown facility or a drug not in the formulary is a PermanentError: the event is
   dead-lettered with that reason and can be replayed once the organisation or the formulary
   caught up (facility and drug events travel on other topics, so they may arrive later).
3. A delisted drug, or one the facility's tier or type may not hold, rejects the whole
   prescription with a reason per line; nothing is dispensed.
4. Otherwise each line is dispensed first-expiry-first-out from unexpired lots, leaving
   other patients' reservations on the shelf (and drawing on this patient's own). What cannot
   be filled is recorded as a shortage (缺药登记), and the item's re-order check may ask the
   central pharmacy for a transfer.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import structlog
from prometheus_client import Histogram
from sqlalchemy import select

from libs.events.catalogue.ingestion import PrescriptionIssued
from libs.events.catalogue.pharmacy import (
    DispensedLine,
    LotQuantity,
    PrescriptionDispensed,
    PrescriptionRejected,
    RejectedLine,
    ReservationReleased,
    ShortageRecorded,
)
from libs.events.catalogue.values import FacilityTier, FacilityType
from libs.events.payload import cents
from libs.events.retry import PermanentError
from services.pharmacy.adapters.schema import (
    DrugRow,
    PrescriptionRow,
    ReservationRow,
    ShortageRow,
)
from services.pharmacy.domain.formulary import Drug, refusal_for
from services.pharmacy.domain.stock import CardKind, Pick, pick_fefo
from services.pharmacy.service_layer.availability import refresh_availability
from services.pharmacy.service_layer.formulary import drug_of
from services.pharmacy.service_layer.ids import new_id
from services.pharmacy.service_layer.replenishment import replenish
from services.pharmacy.service_layer.unit_of_work import PharmacyUnitOfWork

__all__ = ["DISPENSE_LATENCY", "dispense_prescription"]

REFERENCE = "prescription"

log = structlog.get_logger("dispensing")

#: Registered on the process registry by the composition root.
DISPENSE_LATENCY = Histogram(
    "pharmacy_dispense_latency_seconds",
    "From a prescription's issue (HIS clock) to its dispensing or rejection here.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600),
    registry=None,
)


def dispense_prescription(uow: PharmacyUnitOfWork, data: PrescriptionIssued) -> str:
    """Apply one issued prescription inside the consumer's unit of work; returns the outcome."""
    session = uow.session
    if session.get(PrescriptionRow, data.prescription_id) is not None:
        log.info("prescription already handled; nothing to do")
        return "repeated"
    facility = uow.directory.require(data.facility_id)
    drugs = _drugs(uow, {line.drug_code for line in data.lines})
    tier, kind = FacilityTier(facility.tier), FacilityType(facility.facility_type)
    now = uow.now()

    refused = []
    for line in data.lines:
        refusal = refusal_for(drugs[line.drug_code], tier, kind)
        if refusal is not None:
            refused.append(
                RejectedLine(
                    line_no=line.line_no,
                    drug_code=line.drug_code,
                    reason=refusal.reason,
                    detail=refusal.detail,
                )
            )
    if refused:
        uow.publish(
            PrescriptionRejected(
                prescription_id=data.prescription_id,
                facility_id=data.facility_id,
                facility_tier=tier,
                facility_type=kind,
                lines=refused,
                rejected_at=now,
            )
        )
        _remember(uow, data, "rejected", Decimal("0.00"), now)
        return "rejected"

    codes = sorted(drugs)
    items = uow.stock.lock_items(data.facility_id, codes, now)
    lots = uow.stock.lots(data.facility_id, codes)
    own = _own_reservations(uow, data.facility_id, codes, data.patient_pseudonym)
    today = uow.today()
    # Others' reservations: drawing this patient's own below does not change them.
    held = uow.stock.reserved_by_drug(
        data.facility_id, codes, excluding_patient=data.patient_pseudonym
    )
    lines: list[DispensedLine] = []
    short: dict[str, int] = {}
    for line in data.lines:
        drug = drugs[line.drug_code]
        picks, missing = pick_fefo(lots[drug.code], line.quantity, today, held_back=held[drug.code])
        by_lot = {lot.lot_number: lot for lot in lots[drug.code]}
        for pick in picks:
            uow.stock.post(
                data.facility_id,
                drug.code,
                by_lot[pick.lot_number],
                CardKind.DISPENSE,
                -pick.quantity,
                reference_type=REFERENCE,
                reference_id=data.prescription_id,
                at=now,
            )
        dispensed = line.quantity - missing
        _draw_reservations(uow, own.get(drug.code, []), dispensed, now)
        lines.append(_dispensed_line(line.line_no, drug, line.quantity, dispensed, picks))
        if missing:
            short[drug.code] = short.get(drug.code, 0) + missing
            _record_shortage(uow, data, drug.code, missing, now)

    total = sum((line.amount for line in lines), Decimal("0.00"))
    uow.publish(
        PrescriptionDispensed(
            prescription_id=data.prescription_id,
            facility_id=data.facility_id,
            category=data.category,
            lines=lines,
            total_amount=total,
            complete=not short,
            dispensed_at=now,
        )
    )
    outcome = "partial" if short else "dispensed"
    _remember(uow, data, outcome, total, now)
    available = refresh_availability(uow, data.facility_id, items, lots)
    replenish(uow, facility, available, short)
    return outcome


def _drugs(uow: PharmacyUnitOfWork, codes: set[str]) -> dict[str, Drug]:
    rows = {
        row.drug_code: row
        for row in uow.session.scalars(select(DrugRow).where(DrugRow.drug_code.in_(codes)))
    }
    unknown = sorted(codes - set(rows))
    if unknown:
        raise PermanentError("unknown_drug", f"not in the formulary: {', '.join(unknown)}"[:1000])
    return {code: drug_of(row) for code, row in rows.items()}


def _dispensed_line(
    line_no: int, drug: Drug, prescribed: int, dispensed: int, picks: list[Pick]
) -> DispensedLine:
    return DispensedLine(
        line_no=line_no,
        drug_code=drug.code,
        quantity_prescribed=prescribed,
        quantity_dispensed=dispensed,
        unit_price=drug.unit_price,
        amount=cents(drug.unit_price * dispensed),
        lots=[
            LotQuantity(
                lot_number=p.lot_number,
                expiry_date=p.expiry_date,
                quantity=p.quantity,
                unit_cost=p.unit_cost,
            )
            for p in picks
        ],
    )


def _own_reservations(
    uow: PharmacyUnitOfWork, facility_id: str, codes: list[str], patient: str
) -> dict[str, list[ReservationRow]]:
    rows = uow.session.scalars(
        select(ReservationRow)
        .where(
            ReservationRow.facility_id == facility_id,
            ReservationRow.drug_code.in_(codes),
            ReservationRow.active.is_(True),
            ReservationRow.patient_pseudonym == patient,
        )
        .order_by(ReservationRow.reserved_at, ReservationRow.reservation_id)
    )
    result: dict[str, list[ReservationRow]] = {}
    for row in rows:
        result.setdefault(row.drug_code, []).append(row)
    return result


def _draw_reservations(
    uow: PharmacyUnitOfWork, reservations: list[ReservationRow], dispensed: int, now: datetime
) -> None:
    """The patient's own reservations shrink by what was dispensed to them; a reservation
    used up is released (reason ``dispensed``)."""
    for reservation in reservations:
        if dispensed <= 0:
            return
        if not reservation.active:
            continue
        used = min(reservation.quantity, dispensed)
        reservation.quantity -= used
        dispensed -= used
        if reservation.quantity == 0:
            reservation.active = False
            reservation.released_reason, reservation.released_at = "dispensed", now
        uow.publish(
            ReservationReleased(
                reservation_id=reservation.reservation_id,
                facility_id=reservation.facility_id,
                drug_code=reservation.drug_code,
                quantity=used,
                reason="dispensed",
                released_at=now,
            )
        )


def _record_shortage(
    uow: PharmacyUnitOfWork, data: PrescriptionIssued, drug_code: str, missing: int, now: datetime
) -> None:
    shortage_id = new_id("SHT")
    uow.session.add(
        ShortageRow(
            shortage_id=shortage_id,
            facility_id=data.facility_id,
            drug_code=drug_code,
            quantity_short=missing,
            prescription_id=data.prescription_id,
            recorded_at=now,
        )
    )
    uow.publish(
        ShortageRecorded(
            shortage_id=shortage_id,
            facility_id=data.facility_id,
            drug_code=drug_code,
            quantity_short=missing,
            prescription_id=data.prescription_id,
            recorded_at=now,
        )
    )


def _remember(
    uow: PharmacyUnitOfWork,
    data: PrescriptionIssued,
    outcome: str,
    total: Decimal,
    now: datetime,
) -> None:
    uow.session.add(
        PrescriptionRow(
            prescription_id=data.prescription_id,
            facility_id=data.facility_id,
            outcome=outcome,
            total_amount=total,
            issued_at=data.issued_at,
            handled_at=now,
        )
    )
    DISPENSE_LATENCY.observe(max(0.0, (now - data.issued_at).total_seconds()))
