"""Medical quality (医疗质量一体化): the community's one review centre (审方中心).

Every prescription a member's HIS issues is reviewed by the county's rules (dose limits,
duplicate therapy, interacting pairs, contraindications, antibiotic grading) and, when the
rules hold it, by a pharmacist of the review centre. Where the county reviews before
dispensing (per facility type, ``quality.policy``), pharmacy dispenses only what quality
released, from the released event itself; elsewhere the review follows the dispensing.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from libs.events.catalogue.ingestion import PrescriptionLine
from libs.events.catalogue.values import FacilityTier, FacilityType, PrescriptionCategory
from libs.events.payload import Amount, Code, Identifier, Instant, Payload, Pseudonym
from libs.events.registry import event_type

PRODUCER = "quality"


class FindingSeverity(StrEnum):
    WARNING = "warning"  # released with the warning (提示)
    HOLD = "hold"  # a pharmacist decides (人工审核)
    REJECT = "reject"  # returned to the prescriber (不予通过)


class ReviewFinding(Payload):
    """One thing a rule found, on a line or on the whole prescription."""

    rule: Code = Field(
        description="e.g. dose_limit, duplicate_therapy, interaction, "
        "antibiotic_privilege, antibiotic_facility_grade, age, pregnancy."
    )
    severity: FindingSeverity
    line_no: int | None = Field(default=None, ge=1, le=200)
    message: str = Field(min_length=1, max_length=500)


@event_type("quality.policy.published.v1", key="county_code", producer=PRODUCER)
class ReviewPolicyPublished(Payload):
    """Which facility types the county reviews before dispensing (前置审方); the others
    are reviewed after. Pharmacy keeps a copy: it dispenses a prescription of a facility of
    these types only from its ``quality.prescription.released.v1``."""

    county_code: Code
    review_before_dispensing: list[FacilityType] = Field(max_length=10)
    published_at: Instant


class ReviewedPrescription(Payload):
    """The prescription as reviewed (what pharmacy dispenses from when it waits for it)."""

    prescription_id: Identifier
    visit_id: Identifier | None = None
    facility_id: Identifier
    facility_tier: FacilityTier
    patient_pseudonym: Pseudonym
    prescriber_id: Identifier | None = None
    department_id: Identifier | None = None
    category: PrescriptionCategory
    lines: list[PrescriptionLine] = Field(min_length=1, max_length=50)
    total_amount: Amount
    issued_at: Instant


@event_type(
    "quality.prescription.released.v1",
    key="facility_id",
    producer=PRODUCER,
    time_field="released_at",
    identity=("facility_id", "prescription_id"),
)
class PrescriptionReleased(ReviewedPrescription):
    """The review released the prescription, with its warnings if any: by the rules at once,
    or by a pharmacist after a hold (``held_at`` set)."""

    before_dispensing: bool = Field(description="Pharmacy waits for this event to dispense.")
    antibiotic: bool = Field(default=False, description="It prescribes an antibiotic.")
    warnings: list[ReviewFinding] = Field(default_factory=list, max_length=100)
    released_by: Identifier = Field(description="'rules', or the pharmacist's staff id.")
    held_at: Instant | None = None
    released_at: Instant


@event_type(
    "quality.prescription.held.v1",
    key="facility_id",
    producer=PRODUCER,
    time_field="held_at",
    identity=("facility_id", "prescription_id"),
)
class PrescriptionHeld(Payload):
    """The rules held the prescription for a pharmacist of the review centre."""

    prescription_id: Identifier
    facility_id: Identifier
    prescriber_id: Identifier | None = None
    before_dispensing: bool
    antibiotic: bool = Field(default=False, description="It prescribes an antibiotic.")
    findings: list[ReviewFinding] = Field(min_length=1, max_length=100)
    held_at: Instant
    decide_by: Instant


@event_type(
    "quality.prescription.rejected.v1",
    key="facility_id",
    producer=PRODUCER,
    time_field="rejected_at",
    identity=("facility_id", "prescription_id"),
)
class PrescriptionReviewRejected(Payload):
    """The review returned the prescription to its prescriber (by the rules, or by a
    pharmacist after a hold): where reviewed before dispensing, it is never dispensed."""

    prescription_id: Identifier
    facility_id: Identifier
    prescriber_id: Identifier | None = None
    before_dispensing: bool
    antibiotic: bool = Field(default=False, description="It prescribes an antibiotic.")
    findings: list[ReviewFinding] = Field(min_length=1, max_length=100)
    rejected_by: Identifier = Field(description="'rules', or the pharmacist's staff id.")
    held_at: Instant | None = None
    rejected_at: Instant


@event_type(
    "quality.prescription.review_sla_breached.v1",
    key="facility_id",
    producer=PRODUCER,
    time_field="detected_at",
    identity=("facility_id", "prescription_id"),
)
class PrescriptionReviewOverdue(Payload):
    """A held prescription was not decided within the review centre's SLA (once per hold);
    the review centre's lead is alerted."""

    prescription_id: Identifier
    facility_id: Identifier
    held_at: Instant
    decide_by: Instant
    detected_at: Instant
    escalated_to: Code = Field(description="Who was alerted, e.g. review_centre_lead.")


# --- result mutual recognition (检查检验结果互认): topic quality.recognition, keyed by the
# ordering facility --------------------------------------------------------------------------


class NotRecognisedReason(StrEnum):
    ITEM_NOT_RECOGNISED = "item_not_recognised"  # not on the county's list of recognised items
    NO_EARLIER_RESULT = "no_earlier_result"  # the patient has no result of it on record
    OUTSIDE_WINDOW = "outside_window"  # the latest one is older than the item's window
    NOT_ACCREDITED = "not_accredited"  # done where the item's quality control is not passed


@event_type(
    "quality.recognition.recognised.v1",
    key="facility_id",
    producer=PRODUCER,
    time_field="decided_at",
    identity=("facility_id", "order_id"),
)
class ResultRecognised(Payload):
    """An ordered test the patient already had, within the item's window at an accredited
    member: the earlier result is recognised and the repeat avoided (its price saved)."""

    order_id: Identifier
    facility_id: Identifier = Field(description="The facility that ordered the repeat.")
    test_code: Code
    earlier_result_id: Identifier
    earlier_facility_id: Identifier
    earlier_reported_at: Instant
    window_days: int = Field(ge=1, le=3650)
    avoided_cost: Amount = Field(description="The item's price: what the repeat would cost.")
    decided_at: Instant


@event_type(
    "quality.recognition.not_recognised.v1",
    key="facility_id",
    producer=PRODUCER,
    time_field="decided_at",
    identity=("facility_id", "order_id"),
)
class ResultNotRecognised(Payload):
    """An ordered test that no earlier result stands in for, and why."""

    order_id: Identifier
    facility_id: Identifier
    test_code: Code
    reason: NotRecognisedReason
    decided_at: Instant
