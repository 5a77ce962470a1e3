"""Dispensing prescriptions issued by the facilities' HIS (the ``ingestion.prescription``
topic), a set at a time: every new prescription of a consumed batch together.

1. A prescription already handled (the HIS sent it again, under a new event id; or twice in
   one set) changes nothing: the prescription id is remembered.
2. An unknown facility or a drug not in the formulary refuses that record alone (it is
   dead-lettered with that reason and can be replayed once the organisation or the formulary
   caught up; facility and drug events travel on other topics, so they may arrive later).
   Every record is judged before anything is written, so a refused one wrote nothing.
3. A delisted drug, or one the facility's tier or type may not hold, rejects the whole
   prescription with a reason per line; nothing is dispensed.
4. Otherwise each line is dispensed first-expiry-first-out from unexpired lots, leaving
   other patients' reservations on the shelf (and drawing on this patient's own): the stock
   item decides (``domain/items.py``). What cannot be filled is recorded as a shortage
   (缺药登记), and the item's re-order check may ask the central pharmacy for a transfer.

The set's stock items (of every facility) are locked and loaded once; the prescriptions are
then decided one after another in record order on those items in memory, so a later one
sees what an earlier one took, and publish what each would alone, in the same order; the
items are saved at the end in bulk (``adapters/stock_items.py``). A set of one is the same
function: the path the consumer falls back to, record by record, when a set fails.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import structlog
from prometheus_client import Histogram

from libs.directory import KnownFacility
from libs.events.catalogue.ingestion import PrescriptionIssued
from libs.events.catalogue.pharmacy import (
    DispensedLine,
    PrescriptionDispensed,
    PrescriptionRejected,
    RejectedLine,
)
from libs.events.catalogue.values import FacilityTier, FacilityType
from libs.events.consuming.sets import RecordSet
from libs.events.payload import cents
from libs.events.retry import PermanentError
from services.pharmacy.adapters.repository import ItemKey
from services.pharmacy.adapters.schema import PrescriptionRow
from services.pharmacy.domain.formulary import Drug, refusal_for
from services.pharmacy.domain.items import StockItem
from services.pharmacy.domain.stock import Pick
from services.pharmacy.service_layer.availability import announce_changes, lot_quantities
from services.pharmacy.service_layer.replenishment import ReorderCheck
from services.pharmacy.service_layer.reservations import announce_released
from services.pharmacy.service_layer.shortages import record_shortage
from services.pharmacy.service_layer.unit_of_work import PharmacyUnitOfWork

__all__ = ["DISPENSE_LATENCY", "dispense_set"]

log = structlog.get_logger("dispensing")

#: Registered on the process registry by the composition root.
DISPENSE_LATENCY = Histogram(
    "pharmacy_dispense_latency_seconds",
    "From a prescription's issue (HIS clock) to its dispensing or rejection here.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600),
    registry=None,
)


@dataclass(frozen=True)
class _Judged:
    """A prescription that will be handled: rejected (``refused`` lines) or dispensed."""

    data: PrescriptionIssued
    facility: KnownFacility
    refused: list[RejectedLine]


def dispense_set(
    uow: PharmacyUnitOfWork, records: RecordSet[PrescriptionIssued]
) -> list[tuple[str, str]]:
    """Apply a set of issued prescriptions inside the consumer's unit of work; returns each
    handled record's prescription id and outcome (``repeated``, ``rejected``, ``partial`` or
    ``dispensed``), in record order."""
    judged, drugs = _judge(uow, records)
    now = uow.now()
    keys = {
        (j.facility.facility_id, line.drug_code)
        for j in judged
        if j is not None and not j.refused
        for line in j.data.lines
    }
    items = uow.items.lock_many(keys, now)
    facilities = {j.facility.facility_id: j.facility for j in judged if j is not None}
    # One instant for the whole set: its card lines, events and business day agree.
    stock = _Stock(items, drugs, ReorderCheck(uow, keys, facilities), uow.clock.date_of(now))
    outcomes: list[tuple[str, str]] = []
    verdicts = iter(judged)
    for data in records.each():
        verdict = next(verdicts)
        if verdict is None:
            log.info("prescription already handled; nothing to do")
            outcome = "repeated"
        elif verdict.refused:
            outcome = _reject(uow, verdict, now)
        else:
            outcome = _dispense(uow, verdict, stock, now)
        outcomes.append((data.prescription_id, outcome))
    uow.items.save(items.values(), now)
    return outcomes


def _judge(
    uow: PharmacyUnitOfWork, records: RecordSet[PrescriptionIssued]
) -> tuple[list[_Judged | None], dict[str, Drug]]:
    """Each record's verdict before anything is written (None: already handled), and the
    drugs they name; refuses those naming an unknown facility or drug."""
    payloads = records.payloads
    seen = uow.records.handled_prescriptions(p.prescription_id for p in payloads)
    drugs = uow.records.drugs({line.drug_code for p in payloads for line in p.lines})
    judged: list[_Judged | None] = []
    for data in records.each():
        if data.prescription_id in seen:
            judged.append(None)
            continue
        try:
            facility = uow.directory.require(data.facility_id)
            _known(drugs, {line.drug_code for line in data.lines})
        except PermanentError as error:
            records.refuse(error)
            continue
        seen.add(data.prescription_id)
        tier, kind = FacilityTier(facility.tier), FacilityType(facility.facility_type)
        judged.append(_Judged(data, facility, _refused(data, drugs, tier, kind)))
    return judged, drugs


@dataclass(frozen=True)
class _Stock:
    """What the set dispenses from: its locked items, their drugs, their re-order check,
    and the day (lots expire by it)."""

    items: dict[ItemKey, StockItem]
    drugs: dict[str, Drug]
    check: ReorderCheck
    today: date


def _reject(uow: PharmacyUnitOfWork, verdict: _Judged, now: datetime) -> str:
    data, facility = verdict.data, verdict.facility
    uow.publish(
        PrescriptionRejected(
            prescription_id=data.prescription_id,
            facility_id=data.facility_id,
            facility_tier=FacilityTier(facility.tier),
            facility_type=FacilityType(facility.facility_type),
            lines=verdict.refused,
            rejected_at=now,
        )
    )
    _remember(uow, data, "rejected", Decimal("0.00"), now)
    return "rejected"


def _dispense(uow: PharmacyUnitOfWork, verdict: _Judged, stock: _Stock, now: datetime) -> str:
    data, facility_id, today = verdict.data, verdict.data.facility_id, stock.today
    touched: dict[str, StockItem] = {}
    lines: list[DispensedLine] = []
    short: dict[str, int] = {}
    for line in data.lines:
        drug = stock.drugs[line.drug_code]
        item = touched[drug.code] = stock.items[(facility_id, drug.code)]
        picks, draws = item.dispense(
            line.quantity, today, data.patient_pseudonym, data.prescription_id
        )
        dispensed = sum(p.quantity for p in picks)
        stock.check.dispensed(facility_id, drug.code, dispensed)
        announce_released(uow, draws, "dispensed", now)
        lines.append(_dispensed_line(line.line_no, drug, line.quantity, dispensed, picks))
        if dispensed < line.quantity:
            missing = line.quantity - dispensed
            short[drug.code] = short.get(drug.code, 0) + missing
            record_shortage(
                uow, facility_id, drug.code, missing, now, prescription_id=data.prescription_id
            )
    total = sum((line.amount for line in lines), Decimal("0.00"))
    uow.publish(
        PrescriptionDispensed(
            prescription_id=data.prescription_id,
            facility_id=facility_id,
            category=data.category,
            lines=lines,
            total_amount=total,
            complete=not short,
            dispensed_at=now,
        )
    )
    outcome = "partial" if short else "dispensed"
    _remember(uow, data, outcome, total, now)
    stock.check.request(verdict.facility, announce_changes(uow, touched.values(), now), short)
    return outcome


def _known(drugs: dict[str, Drug], codes: set[str]) -> None:
    unknown = sorted(codes - set(drugs))
    if unknown:
        raise PermanentError("unknown_drug", f"not in the formulary: {', '.join(unknown)}"[:1000])


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
