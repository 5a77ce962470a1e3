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
5. A herbal prescription sent to the shared TCM pharmacy is not dispensed at the clinic: the
   shared pharmacy's stock gives it once quality accepts its order (``shared_pharmacy.py``).

The set's stock items (of every facility) are locked and loaded once; the prescriptions are
then decided one after another in record order on those items in memory, so a later one
sees what an earlier one took, and publish what each would alone, in the same order; the
items are saved at the end in bulk (``adapters/stock_items.py``). A set of one is the same
function: the path the consumer falls back to, record by record, when a set fails.

Review before dispensing (``docs/pharmacy.md``): where the county's review policy (pharmacy's
copy of ``quality.policy.published``) names the facility's type, the HIS's prescription is
held back (``awaiting_review``) and dispensed by :func:`dispense_released` from its
``quality.prescription.released`` event, through the same judging and dispensing as here.
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
from libs.events.catalogue.quality import PrescriptionReleased
from libs.events.catalogue.values import FacilityTier, FacilityType
from libs.events.consuming.sets import RecordSet
from libs.events.payload import cents
from libs.events.retry import PermanentError
from services.pharmacy.adapters.repository import ItemKey
from services.pharmacy.adapters.schema import AwaitingReviewRow, PrescriptionRow
from services.pharmacy.domain.formulary import Drug, refusal_for
from services.pharmacy.domain.items import StockItem
from services.pharmacy.domain.stock import Pick
from services.pharmacy.service_layer.availability import announce_changes, lot_quantities
from services.pharmacy.service_layer.replenishment import ReorderCheck
from services.pharmacy.service_layer.reservations import announce_released
from services.pharmacy.service_layer.shared_pharmacy import (
    SENT,
    leave_to_shared_pharmacy,
    sent_to_shared_pharmacy,
)
from services.pharmacy.service_layer.shortages import record_shortage
from services.pharmacy.service_layer.unit_of_work import PharmacyUnitOfWork

__all__ = ["DISPENSE_LATENCY", "dispense_prepared", "dispense_released", "dispense_set"]

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
    """A prescription that will be handled: held for the review (``held``), rejected
    (``refused`` lines) or dispensed."""

    data: PrescriptionIssued
    facility: KnownFacility
    refused: list[RejectedLine]
    held: bool = False


@dataclass(frozen=True)
class _Review:
    """How a set meets the review: the HIS's prescriptions (``policies``: the county's types
    reviewed before dispensing), or the review's releases (``released``)."""

    policies: dict[str, frozenset[str]]
    released: bool
    awaiting: set[str]


def dispense_set(
    uow: PharmacyUnitOfWork, records: RecordSet[PrescriptionIssued]
) -> list[tuple[str, str]]:
    """Apply a set of issued prescriptions inside the consumer's unit of work; returns each
    handled record's prescription id and outcome (``repeated``, ``awaiting_review``,
    ``rejected``, ``partial`` or ``dispensed``), in record order."""
    policies = uow.records.review_policies()
    # Without a policy (quality not deployed) nothing is held: one query fewer.
    ids = [p.prescription_id for p in records.payloads] if policies else []
    review = _Review(policies, False, uow.records.awaiting_review(ids))
    return _handle(uow, records, review)


def dispense_released(
    uow: PharmacyUnitOfWork, records: RecordSet[PrescriptionReleased]
) -> list[tuple[str, str]]:
    """Dispense what the review released before dispensing, as the HIS's prescription would
    have been; a release after dispensing (``before_dispensing`` false) is ``ignored``,
    unless pharmacy holds that prescription back (its policy was not quality's yet)."""
    ids = [p.prescription_id for p in records.payloads]
    review = _Review({}, True, uow.records.awaiting_review(ids))
    outcomes = _handle(uow, records, review)
    done = {p for p, outcome in outcomes if p in review.awaiting and outcome != "ignored"}
    if done:
        uow.records.end_review_wait(done)
    return outcomes


def _handle(
    uow: PharmacyUnitOfWork,
    records: RecordSet[PrescriptionIssued] | RecordSet[PrescriptionReleased],
    review: _Review,
) -> list[tuple[str, str]]:
    judged, drugs = _judge(uow, records, review)
    now = uow.now()
    keys = {
        (j.facility.facility_id, line.drug_code)
        for j in judged
        if isinstance(j, _Judged) and not j.refused and not j.held
        for line in j.data.lines
    }
    items = uow.items.lock_many(keys, now)
    facilities = {
        j.facility.facility_id: j.facility for j in judged if isinstance(j, _Judged) and not j.held
    }
    # One instant for the whole set: its card lines, events and business day agree.
    stock = _Stock(items, drugs, ReorderCheck(uow, keys, facilities), uow.clock.date_of(now))
    outcomes: list[tuple[str, str]] = []
    verdicts = iter(judged)
    for data in records.each():
        verdict = next(verdicts)
        if verdict == SENT:
            outcome = leave_to_shared_pharmacy(uow, _as_issued(data), now)
        elif isinstance(verdict, str):
            log.info("prescription handled before or reviewed after; nothing to do")
            outcome = verdict
        elif verdict.held:
            outcome = _hold(uow, verdict, now)
        elif verdict.refused:
            outcome = _reject(uow, verdict, now)
        else:
            outcome = _dispense(uow, verdict, stock, now)
        outcomes.append((data.prescription_id, outcome))
    uow.items.save(items.values(), now)
    return outcomes


def _judge(
    uow: PharmacyUnitOfWork,
    records: RecordSet[PrescriptionIssued] | RecordSet[PrescriptionReleased],
    review: _Review,
) -> tuple[list[_Judged | str], dict[str, Drug]]:
    """Each record's verdict before anything is written (a string: ``repeated`` when already
    handled, ``ignored`` for a release after dispensing), and the drugs they name; refuses
    those naming an unknown facility, or an unknown drug unless held for the review."""
    payloads = [_as_issued(p) for p in records.payloads]
    seen = uow.records.handled_prescriptions(p.prescription_id for p in payloads)
    if not review.released:  # held already: the HIS sent it again
        seen |= review.awaiting
    drugs = uow.records.drugs({line.drug_code for p in payloads for line in p.lines})
    judged: list[_Judged | str] = []
    for record in records.each():
        data = _as_issued(record)
        if _after_dispensing(record, review):
            judged.append("ignored")
            continue
        if data.prescription_id in seen:
            judged.append("repeated")
            continue
        if sent_to_shared_pharmacy(record):  # prepared from the shared pharmacy's stock
            seen.add(data.prescription_id)
            judged.append(SENT)
            continue
        try:
            facility = uow.directory.require(data.facility_id)
            held = _reviewed_before(facility, review)
            if not held:
                _known(drugs, {line.drug_code for line in data.lines})
        except PermanentError as error:
            records.refuse(error)
            continue
        seen.add(data.prescription_id)
        tier, kind = FacilityTier(facility.tier), FacilityType(facility.facility_type)
        refused = [] if held else _refused(data, drugs, tier, kind)
        judged.append(_Judged(data, facility, refused, held))
    return judged, drugs


def dispense_prepared(uow: PharmacyUnitOfWork, data: PrescriptionIssued) -> str:
    """Dispense one prescription prepared for a facility's stock by another service (the
    shared TCM pharmacy's order, at the TCM hospital: ``shared_pharmacy.py``), judged and
    dispensed as an HIS's is; ``repeated`` when its id was handled already."""
    if uow.records.handled_prescriptions([data.prescription_id]):
        return "repeated"
    facility = uow.directory.require(data.facility_id)
    codes = {line.drug_code for line in data.lines}
    drugs = uow.records.drugs(codes)
    _known(drugs, codes)
    kind = FacilityType(facility.facility_type)
    verdict = _Judged(data, facility, _refused(data, drugs, FacilityTier(facility.tier), kind))
    now = uow.now()
    if verdict.refused:
        return _reject(uow, verdict, now)
    keys = {(data.facility_id, code) for code in codes}
    items = uow.items.lock_many(keys, now)
    check = ReorderCheck(uow, keys, {facility.facility_id: facility})
    outcome = _dispense(uow, verdict, _Stock(items, drugs, check, uow.clock.date_of(now)), now)
    uow.items.save(items.values(), now)
    return outcome


def _as_issued(data: PrescriptionIssued | PrescriptionReleased) -> PrescriptionIssued:
    """What is dispensed: the HIS's prescription, or the one the review released (the same
    fields, as reviewed)."""
    if isinstance(data, PrescriptionIssued):
        return data
    return PrescriptionIssued.model_validate(
        data.model_dump(include=set(PrescriptionIssued.model_fields))
    )


def _after_dispensing(data: PrescriptionIssued | PrescriptionReleased, review: _Review) -> bool:
    """A release of a prescription reviewed after dispensing: dispensed on the HIS's event
    already, so nothing to do, unless pharmacy held it back (its policy lagged quality's)."""
    return (
        isinstance(data, PrescriptionReleased)
        and not data.before_dispensing
        and data.prescription_id not in review.awaiting
    )


def _reviewed_before(facility: KnownFacility, review: _Review) -> bool:
    """An HIS prescription of a facility whose type its county reviews before dispensing."""
    if review.released:
        return False
    return facility.facility_type in review.policies.get(facility.county_code, frozenset())


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


def _hold(uow: PharmacyUnitOfWork, verdict: _Judged, now: datetime) -> str:
    data = verdict.data
    log.info("prescription held for the review before dispensing")
    uow.records.hold_for_review(
        AwaitingReviewRow(
            prescription_id=data.prescription_id,
            facility_id=data.facility_id,
            issued_at=data.issued_at,
            held_at=now,
        )
    )
    return "awaiting_review"


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
