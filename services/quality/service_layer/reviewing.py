"""Reviewing each prescription a member's HIS issues (前置审方): the county's rules decide,
a pharmacist decides what they hold. The review is recorded with its events in the
handler's transaction; a prescription reviewed once is not reviewed again (the consumer's
fact claim catches a resend, and the review row a second copy)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from libs.directory import FacilityDirectory
from libs.events.catalogue.ingestion import PrescriptionIssued, PrescriptionIssuedV2
from libs.events.catalogue.quality import (
    PrescriptionHeld,
    PrescriptionReleased,
    PrescriptionReviewRejected,
    ReviewedPrescription,
    ReviewFinding,
)
from libs.events.catalogue.values import FacilityType, StaffTitle
from libs.events.unit_of_work import UnitOfWork
from services.quality.adapters.schema import Prescriber, Review
from services.quality.domain.review import (
    Finding,
    LineUnderReview,
    PrescriptionUnderReview,
    ReviewOutcome,
    Verdict,
    is_antibiotic,
    review,
)
from services.quality.service_layer import dispensings, shared_pharmacy
from services.quality.service_layer.unit_of_work import quality_uow

__all__ = ["findings_of", "release_event", "review_prescription", "utc"]

RULES = "rules"


def review_prescription(data: PrescriptionIssued, uow: UnitOfWork) -> None:
    work = quality_uow(uow)
    if work.session.get(Review, (data.facility_id, data.prescription_id)) is not None:
        return
    rules = work.config.rules
    facility_type = _facility_type(work, data.facility_id)
    before = facility_type in rules.review_before_dispensing
    verdict = review(_under_review(work, data, facility_type), rules)
    verdict = shared_pharmacy.with_admission(verdict, data, work.config.shared_pharmacy)
    now = work.config.now()
    row = Review(
        facility_id=data.facility_id,
        prescription_id=data.prescription_id,
        outcome=verdict.outcome.value,
        before_dispensing=before,
        prescriber_id=data.prescriber_id,
        antibiotic=any(is_antibiotic(line.drug_code, rules) for line in data.lines),
        findings=[_finding_json(f) for f in verdict.findings],
        prescription=data.model_dump(mode="json"),
        reviewed_at=now,
    )
    work.session.add(row)
    _announce(work, row, verdict, now, timedelta(minutes=rules.review_sla_minutes))
    dispensings.complete_dispensing(work.session, row, work.config.clock)


def _announce(
    uow: UnitOfWork, row: Review, verdict: Verdict, now: datetime, sla: timedelta
) -> None:
    findings = findings_of(row.findings)
    if verdict.outcome in (ReviewOutcome.RELEASED, ReviewOutcome.RELEASED_WITH_WARNINGS):
        row.state, row.decided_at, row.decided_by = "released", now, RULES
        uow.publish(release_event(row, released_by=RULES, at=now))
        shared_pharmacy.accept_if_requested(uow, row, now)
    elif verdict.outcome is ReviewOutcome.HELD:
        row.state, row.held_at, row.decide_by = "held", now, now + sla
        uow.publish(
            PrescriptionHeld(
                prescription_id=row.prescription_id,
                facility_id=row.facility_id,
                prescriber_id=row.prescriber_id,
                before_dispensing=row.before_dispensing,
                antibiotic=row.antibiotic,
                findings=findings,
                held_at=now,
                decide_by=now + sla,
            )
        )
    else:
        row.state, row.decided_at, row.decided_by = "rejected", now, RULES
        uow.publish(
            PrescriptionReviewRejected(
                prescription_id=row.prescription_id,
                facility_id=row.facility_id,
                prescriber_id=row.prescriber_id,
                before_dispensing=row.before_dispensing,
                antibiotic=row.antibiotic,
                findings=findings,
                rejected_by=RULES,
                rejected_at=now,
            )
        )


def release_event(row: Review, *, released_by: str, at: datetime) -> PrescriptionReleased:
    """The released prescription, as pharmacy dispenses it when it waits for the review."""
    warnings = [f for f in findings_of(row.findings) if f.severity.value == "warning"]
    # The stored prescription is the HIS's, of whichever version: the release carries the
    # fields pharmacy dispenses from, never the patient's age band or pregnancy.
    reviewed = {k: v for k, v in row.prescription.items() if k in ReviewedPrescription.model_fields}
    return PrescriptionReleased(
        **reviewed,
        before_dispensing=row.before_dispensing,
        antibiotic=row.antibiotic,
        warnings=warnings,
        released_by=released_by,
        held_at=utc(row.held_at),
        released_at=at,
    )


def utc(value: datetime | None) -> datetime | None:
    """``value`` zone-aware: SQLite hands back naive datetimes, stored in UTC."""
    return value if value is None or value.tzinfo is not None else value.replace(tzinfo=UTC)


def findings_of(stored: list[dict[str, Any]]) -> list[ReviewFinding]:
    return [ReviewFinding.model_validate(f) for f in stored]


def _finding_json(finding: Finding) -> dict[str, Any]:
    return ReviewFinding(
        rule=finding.rule,
        severity=finding.severity,
        line_no=finding.line_no,
        message=finding.message[:500],
    ).model_dump(mode="json")


def _facility_type(uow: UnitOfWork, facility_id: str) -> FacilityType:
    """The facility's type; a facility this copy has not heard of yet parks the prescription
    until the organisation's event arrives (``NotYetKnown``)."""
    return FacilityType(FacilityDirectory(uow.session).require(facility_id).facility_type)


def _under_review(
    uow: UnitOfWork, data: PrescriptionIssued, facility_type: FacilityType | None
) -> PrescriptionUnderReview:
    prescriber = uow.session.get(Prescriber, data.prescriber_id) if data.prescriber_id else None
    title = StaffTitle(prescriber.title) if prescriber is not None and prescriber.active else None
    v2 = data if isinstance(data, PrescriptionIssuedV2) else None
    return PrescriptionUnderReview(
        prescription_id=data.prescription_id,
        facility_id=data.facility_id,
        facility_type=facility_type,
        category=data.category,
        prescriber_id=data.prescriber_id,
        prescriber_title=title,
        lines=tuple(
            LineUnderReview(ln.line_no, ln.drug_code, ln.quantity, ln.days_supply)
            for ln in data.lines
        ),
        patient_age_band=None if v2 is None else v2.patient_age_band,
        pregnant=None if v2 is None else v2.pregnant,
    )
