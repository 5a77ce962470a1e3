"""Medical quality (医疗质量一体化): the community's one review centre (审方中心).

Every prescription a member's HIS issues is reviewed by the county's rules (dose limits,
duplicate therapy, interacting pairs, contraindications, antibiotic grading) and, when the
rules hold it, by a pharmacist of the review centre. Where the county reviews before
dispensing (per facility type, ``quality.policy``), pharmacy dispenses only what quality
released, from the released event itself; elsewhere the review follows the dispensing.

Each month a sample of every member's dispensed prescriptions is audited (处方点评) and the
results published per member (``quality.audit``).

Longer than 400 lines because it is declarative: the domain's event catalogue, one payload
class per event type, read (and rendered into docs/events.md) as one list.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, model_validator

from libs.events.catalogue.ingestion import PrescriptionLine, SharedPharmacyRequest
from libs.events.catalogue.values import FacilityTier, FacilityType, PrescriptionCategory
from libs.events.payload import (
    Amount,
    Code,
    Count,
    Identifier,
    Instant,
    Name,
    Payload,
    Period,
    Pseudonym,
    Quantity,
)
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
    shared_pharmacy: SharedPharmacyRequest | None = Field(
        default=None,
        description="Sent to the shared TCM pharmacy (``.v2``): prepared from its stock, never "
        "dispensed at the clinic (``quality.herbal_order.accepted.v1``).",
    )


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


# --- the shared TCM pharmacy (共享中药房): topic quality.herbal_order, keyed by the order ------
# A member clinic's herbal prescription that asked for it (``shared_pharmacy`` on
# ``ingestion.prescription.issued.v2``) and that the review released becomes an order of the
# county's shared pharmacy: prepared from its stock, decocted and delivered to the patient's
# home within the delivery SLA. No address travels: the courier gets it from the clinic.


class HerbalOrderLine(Payload):
    """What the shared pharmacy issues for one line of the prescription."""

    line_no: int = Field(ge=1, le=200)
    drug_code: Identifier
    quantity: Quantity = Field(
        description="Packs, in the formulary's unit, for the whole course (every dose)."
    )


class HerbalOrderFees(Payload):
    """What the sending clinic owes the shared pharmacy for the order, by the county's tariff
    at acceptance (``infra/quality/shared-pharmacy.yaml``)."""

    preparation: Amount = Field(description="Preparation (调剂) per dose × doses.")
    decoction: Amount = Field(description="Decoction (代煎) per dose × doses; 0 if not decocted.")
    delivery: Amount = Field(description="Home delivery per order; 0 if collected.")
    total: Amount


class HerbalOrderRef(Payload):
    """Which order, sent by which clinic, prepared by which shared pharmacy."""

    order_id: Identifier
    prescription_id: Identifier
    facility_id: Identifier = Field(description="The member clinic that sent the prescription.")
    pharmacy_facility_id: Identifier = Field(description="The shared pharmacy (TCM hospital).")


@event_type(
    "quality.herbal_order.accepted.v1",
    key="order_id",
    producer=PRODUCER,
    time_field="accepted_at",
    identity=("order_id",),
)
class HerbalOrderAccepted(HerbalOrderRef):
    """The review released a herbal prescription sent to the shared pharmacy: an order it
    prepares from its own stock (pharmacy issues the lines there, never at the clinic)."""

    patient_pseudonym: Pseudonym
    lines: list[HerbalOrderLine] = Field(min_length=1, max_length=50)
    doses: int = Field(ge=1, le=60, description="Doses (剂数).")
    decoct: bool
    deliver_home: bool
    fees: HerbalOrderFees
    accepted_at: Instant
    deliver_by: Instant = Field(description="accepted_at + the delivery SLA.")


@event_type(
    "quality.herbal_order.decoction_started.v1",
    key="order_id",
    producer=PRODUCER,
    time_field="started_at",
    identity=("order_id",),
)
class HerbalDecoctionStarted(HerbalOrderRef):
    """The shared pharmacy started preparing and decocting the order."""

    accepted_at: Instant
    started_at: Instant
    started_by: Identifier


@event_type(
    "quality.herbal_order.dispatched.v1",
    key="order_id",
    producer=PRODUCER,
    time_field="dispatched_at",
    identity=("order_id", "attempt"),
)
class HerbalOrderDispatched(HerbalOrderRef):
    """The order left the shared pharmacy with the courier (again, after a failed delivery:
    ``attempt`` counts them)."""

    attempt: int = Field(ge=1, le=10)
    dispatched_at: Instant
    deliver_by: Instant


@event_type(
    "quality.herbal_order.delivered.v1",
    key="order_id",
    producer=PRODUCER,
    time_field="delivered_at",
    identity=("order_id",),
)
class HerbalOrderDelivered(HerbalOrderRef):
    """The patient received the order; finance settles its fees from the clinic to the
    shared pharmacy, reporting counts it on time or late."""

    doses: int = Field(ge=1, le=60)
    fees: HerbalOrderFees
    attempts: int = Field(ge=1, le=10)
    accepted_at: Instant
    deliver_by: Instant
    delivered_at: Instant
    on_time: bool = Field(description="delivered_at is not after deliver_by.")


@event_type(
    "quality.herbal_order.delivery_failed.v1",
    key="order_id",
    producer=PRODUCER,
    time_field="failed_at",
    identity=("order_id", "attempt"),
)
class HerbalDeliveryFailed(HerbalOrderRef):
    """The courier could not deliver; the order may be dispatched again while
    ``retries_left`` is above 0."""

    attempt: int = Field(ge=1, le=10)
    reason: Code = Field(description="e.g. nobody_home, wrong_address, refused.")
    retries_left: int = Field(ge=0, le=10)
    failed_at: Instant


@event_type(
    "quality.herbal_order.delivery_sla_breached.v1",
    key="order_id",
    producer=PRODUCER,
    time_field="detected_at",
    identity=("order_id",),
)
class HerbalDeliveryOverdue(HerbalOrderRef):
    """An order not delivered by its ``deliver_by`` (once per order)."""

    state: Code = Field(description="Where it stood: accepted, decocting, dispatched, ...")
    accepted_at: Instant
    deliver_by: Instant
    detected_at: Instant


# --- prescription audit (处方点评): topic quality.audit, keyed by the audited facility -------


class AuditCategoryCount(Payload):
    category: Code = Field(
        description="non_standard (不规范处方), inappropriate (用药不适宜处方) or abnormal "
        "(超常处方), as infra/quality/audit.yaml names them."
    )
    prescriptions: Count


class AuditReasonCount(Payload):
    category: Code
    reason: Code = Field(description="The standard's sub-reason, e.g. dosage_inappropriate.")
    prescriptions: Count


class AuditPrescriberResult(Payload):
    prescriber_id: Identifier | None = Field(
        default=None, description="None: the prescriptions' HIS did not name the prescriber."
    )
    sampled: Count
    irrational: Count


@event_type(
    "quality.audit.completed.v1",
    key="facility_id",
    producer=PRODUCER,
    time_field="published_at",
    identity=("facility_id", "month"),
)
class AuditCompleted(Payload):
    """A member's monthly prescription audit (处方点评) was completed and published: every
    sampled prescription judged rational or irrational (in one of the standard's categories,
    with its sub-reasons), with the rates per member and per prescriber. Once per member and
    month; the administration scores members by it, reporting shows the irrational rate."""

    facility_id: Identifier
    month: Period = Field(description="The county month the prescriptions were issued in.")
    prescriptions: Count = Field(
        description="The member's dispensed prescriptions issued in the month (the population)."
    )
    sampled: Count
    reviewed: Count = Field(description="Sampled prescriptions with a verdict (all of them).")
    irrational: Count = Field(description="Reviewed prescriptions judged not rational.")
    categories: list[AuditCategoryCount] = Field(default_factory=list, max_length=20)
    reasons: list[AuditReasonCount] = Field(default_factory=list, max_length=200)
    prescribers: list[AuditPrescriberResult] = Field(default_factory=list, max_length=5000)
    seed: Name = Field(description="The seed the sample was drawn with (to draw it again).")
    drawn_at: Instant
    published_at: Instant
    published_by: Identifier = Field(description="The staff id of who published it.")

    @model_validator(mode="after")
    def _counts_add_up(self) -> AuditCompleted:
        if not self.irrational <= self.reviewed <= self.sampled <= self.prescriptions:
            raise ValueError("irrational <= reviewed <= sampled <= prescriptions")
        if sum(c.prescriptions for c in self.categories) != self.irrational:
            raise ValueError("the categories' counts must add up to irrational")
        if (
            sum(p.sampled for p in self.prescribers) != self.sampled
            or sum(p.irrational for p in self.prescribers) != self.irrational
        ):
            raise ValueError("the prescribers' counts must add up to sampled and irrational")
        return self
