"""Source events of the review centre (quality) for the reporting tests: prescriptions
released, held, rejected, and holds past the review SLA."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from libs.events import CloudEvent
from libs.events.catalogue.ingestion import PrescriptionLine
from libs.events.catalogue.quality import (
    FindingSeverity,
    PrescriptionHeld,
    PrescriptionReleased,
    PrescriptionReviewOverdue,
    PrescriptionReviewRejected,
    ReviewFinding,
)
from libs.events.catalogue.values import FacilityTier, PrescriptionCategory
from tests.support.reporting import PATIENT, event

SLA = timedelta(minutes=30)


def _finding(severity: FindingSeverity) -> list[ReviewFinding]:
    return [ReviewFinding(rule="dose_limit", severity=severity, line_no=1, message="over")]


def released(
    facility_id: str,
    rx: str,
    at: datetime,
    *,
    held_at: datetime | None = None,
    antibiotic: bool = False,
) -> CloudEvent[Any]:
    """Released by the rules at once, or (``held_at``) by a pharmacist after a hold."""
    return event(
        PrescriptionReleased(
            prescription_id=rx,
            facility_id=facility_id,
            facility_tier=FacilityTier.PRIMARY,
            patient_pseudonym=PATIENT,
            category=PrescriptionCategory.WESTERN,
            lines=[PrescriptionLine(line_no=1, drug_code="D-1", quantity=1)],
            total_amount=Decimal("30.00"),
            issued_at=held_at or at,
            before_dispensing=True,
            antibiotic=antibiotic,
            released_by="rules" if held_at is None else "PH-1",
            held_at=held_at,
            released_at=at,
        )
    )


def held(facility_id: str, rx: str, at: datetime, *, antibiotic: bool = False) -> CloudEvent[Any]:
    return event(
        PrescriptionHeld(
            prescription_id=rx,
            facility_id=facility_id,
            before_dispensing=True,
            antibiotic=antibiotic,
            findings=_finding(FindingSeverity.HOLD),
            held_at=at,
            decide_by=at + SLA,
        )
    )


def rejected(
    facility_id: str,
    rx: str,
    at: datetime,
    *,
    held_at: datetime | None = None,
    antibiotic: bool = False,
) -> CloudEvent[Any]:
    """Rejected by the rules at once, or (``held_at``) by a pharmacist after a hold."""
    return event(
        PrescriptionReviewRejected(
            prescription_id=rx,
            facility_id=facility_id,
            before_dispensing=True,
            antibiotic=antibiotic,
            findings=_finding(FindingSeverity.REJECT),
            rejected_by="rules" if held_at is None else "PH-1",
            held_at=held_at,
            rejected_at=at,
        )
    )


def overdue(facility_id: str, rx: str, held_at: datetime) -> CloudEvent[Any]:
    return event(
        PrescriptionReviewOverdue(
            prescription_id=rx,
            facility_id=facility_id,
            held_at=held_at,
            decide_by=held_at + SLA,
            detected_at=held_at + SLA + timedelta(minutes=1),
            escalated_to="review_centre_lead",
        )
    )
