"""Dispensing a prescription issued by a facility's HIS (the ``ingestion.prescription`` topic).

1. A prescription already handled (the HIS sent it again, under a new event id) changes
   nothing: the prescription id is remembered.
2. An unknown facility or a drug not in the formulary is a PermanentError: the event is
   dead-lettered with that reason and can be replayed once the organisation or the formulary
   caught up (facility and drug events travel on other topics, so they may arrive later).
3. A delisted drug, or one the facility's tier or type may not hold, rejects the whole
   prescription with a reason per line; nothing is dispensed.
4. Otherwise each line is dispensed first-expiry-first-out from unexpired lots, leaving
   other patients' reservations on the shelf (and drawing on this patient's own): the stock
   item decides (``domain/items.py``). What cannot be filled is recorded as a shortage
   (缺药登记), and the item's re-order check may ask the central pharmacy for a transfer.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import structlog
from prometheus_client import Histogram

from libs.events.catalogue.ingestion import PrescriptionIssued
from libs.events.catalogue.pharmacy import (
    DispensedLine,
    PrescriptionDispensed,
    PrescriptionRejected,
    RejectedLine,
)
from libs.events.catalogue.values import FacilityTier, FacilityType
from libs.events.payload import cents
from libs.events.retry import PermanentError
from services.pharmacy.adapters.schema import PrescriptionRow
from services.pharmacy.domain.formulary import Drug, refusal_for
from services.pharmacy.domain.stock import Pick
from services.pharmacy.service_layer.availability import announce_availability, lot_quantities
from services.pharmacy.service_layer.replenishment import replenish
from services.pharmacy.service_layer.reservations import announce_released
from services.pharmacy.service_layer.shortages import record_shortage
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
    if uow.records.prescription_handled(data.prescription_id):
        log.info("prescription already handled; nothing to do")
        return "repeated"
    facility = uow.directory.require(data.facility_id)
    drugs = _drugs(uow, {line.drug_code for line in data.lines})
    tier, kind = FacilityTier(facility.tier), FacilityType(facility.facility_type)
    now = uow.now()
    refused = _refused(data, drugs, tier, kind)
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

    items = uow.items.lock(data.facility_id, drugs, now)
    today = uow.today()
    lines: list[DispensedLine] = []
    short: dict[str, int] = {}
    for line in data.lines:
        drug, item = drugs[line.drug_code], items[line.drug_code]
        picks, draws = item.dispense(
            line.quantity, today, data.patient_pseudonym, data.prescription_id
        )
        dispensed = sum(p.quantity for p in picks)
        announce_released(uow, draws, "dispensed", now)
        lines.append(_dispensed_line(line.line_no, drug, line.quantity, dispensed, picks))
        if dispensed < line.quantity:
            missing = line.quantity - dispensed
            short[drug.code] = short.get(drug.code, 0) + missing
            record_shortage(
                uow, data.facility_id, drug.code, missing, now, prescription_id=data.prescription_id
            )
    uow.items.save(items.values(), now)

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
    replenish(uow, facility, announce_availability(uow, items), short)
    return outcome


def _drugs(uow: PharmacyUnitOfWork, codes: set[str]) -> dict[str, Drug]:
    drugs = uow.records.drugs(codes)
    unknown = sorted(codes - set(drugs))
    if unknown:
        raise PermanentError("unknown_drug", f"not in the formulary: {', '.join(unknown)}"[:1000])
    return drugs


def _refused(
    data: PrescriptionIssued, drugs: dict[str, Drug], tier: FacilityTier, kind: FacilityType
) -> list[RejectedLine]:
    """A line per drug the facility may not give out (delisted, or not for its tier or type)."""
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
    return refused


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
        lots=lot_quantities(picks),
    )


def _remember(
    uow: PharmacyUnitOfWork,
    data: PrescriptionIssued,
    outcome: str,
    total: Decimal,
    now: datetime,
) -> None:
    uow.records.remember_prescription(
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
