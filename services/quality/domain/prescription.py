"""What the review reads of a prescription, and what it says of it.

The review works on its own view of a prescription rather than on the ingestion event:
the event does not carry the facility type, the prescriber's title or the care setting,
which come from the registries; the patient's age band and pregnancy come only with
``ingestion.prescription.issued.v2``. Whatever is unknown is ``None``, and each rule says
what it does without it.

Findings never carry patient data: they name rules, drugs and line numbers, since they
travel on events and land in the review centre's worklist and in reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from libs.events.catalogue.quality import FindingSeverity
from libs.events.catalogue.values import AgeBand, FacilityType, PrescriptionCategory, StaffTitle

__all__ = [
    "Finding",
    "LineUnderReview",
    "PrescriptionUnderReview",
    "ReviewOutcome",
    "Verdict",
    "outcome_of",
]


@dataclass(frozen=True)
class LineUnderReview:
    line_no: int
    drug_code: str
    quantity: int
    """Packs, in the formulary's unit."""
    days_supply: int | None = None


@dataclass(frozen=True)
class PrescriptionUnderReview:
    prescription_id: str
    facility_id: str
    facility_type: FacilityType | None
    """``None`` when the facility is not (yet) in the registry."""
    category: PrescriptionCategory
    prescriber_id: str | None
    prescriber_title: StaffTitle | None
    """``None`` when the prescriber is unknown to the staff registry."""
    lines: tuple[LineUnderReview, ...]
    outpatient: bool = True
    patient_age_band: AgeBand | None = None
    """The age as a band, never the birth date; ``None`` when the HIS did not say (the v1
    prescription event never does)."""
    pregnant: bool | None = None
    """``None`` when the HIS did not say (the v1 prescription event never does)."""


@dataclass
class Finding:
    """One thing a rule found, on a line (``line_no``) or on the whole prescription."""

    rule: str
    severity: FindingSeverity
    line_no: int | None
    message: str


class ReviewOutcome(StrEnum):
    RELEASED = "released"  # 通过
    RELEASED_WITH_WARNINGS = "released_with_warnings"  # 通过并提示
    HELD = "held"  # 人工审核: a pharmacist of the review centre decides
    REJECTED = "rejected"  # 不予通过: returned to the prescriber


@dataclass(frozen=True)
class Verdict:
    outcome: ReviewOutcome
    findings: tuple[Finding, ...]


_OUTCOME_BY_SEVERITY = (
    (FindingSeverity.REJECT, ReviewOutcome.REJECTED),
    (FindingSeverity.HOLD, ReviewOutcome.HELD),
    (FindingSeverity.WARNING, ReviewOutcome.RELEASED_WITH_WARNINGS),
)


def outcome_of(findings: tuple[Finding, ...] | list[Finding]) -> ReviewOutcome:
    """The outcome the most severe finding calls for; released when there is none."""
    severities = {f.severity for f in findings}
    for severity, outcome in _OUTCOME_BY_SEVERITY:
        if severity in severities:
            return outcome
    return ReviewOutcome.RELEASED
