"""Referral (业务一体化): two-way referrals (双向转诊), green channels, SLA breaches.

Every referral event carries the referral's direction, parties and priority, so consumers
(reporting, pharmacy, finance) need no state of their own to interpret it. Patients appear
only as pseudonyms; free-text clinical notes never leave the referral service.
"""

from __future__ import annotations

from pydantic import Field

from libs.events.catalogue.values import (
    GreenChannel,
    HalfDay,
    ReferralDirection,
    ReferralPriority,
)
from libs.events.payload import (
    Code,
    Count,
    Date,
    DiagnosisCode,
    Identifier,
    Instant,
    Name,
    Payload,
    Pseudonym,
    Quantity,
)
from libs.events.registry import event_type

PRODUCER = "referral"


class FollowUpMedication(Payload):
    drug_code: Identifier
    quantity: Quantity
    days_supply: int | None = Field(default=None, ge=1, le=365)


class FollowUpPlan(Payload):
    """What a patient referred down needs at the clinic."""

    medications: list[FollowUpMedication] = Field(default_factory=list, max_length=30)
    follow_up_within_days: int | None = Field(default=None, ge=1, le=365)
    follow_up_specialty: Name | None = None


class _ReferralRef(Payload):
    referral_id: Identifier
    direction: ReferralDirection
    from_facility_id: Identifier
    to_facility_id: Identifier
    priority: ReferralPriority
    green_channel: GreenChannel | None = None


@event_type(
    "referral.referral.requested.v1",
    key="referral_id",
    producer=PRODUCER,
    identity=("referral_id",),
)
class ReferralRequested(_ReferralRef):
    """A facility asked another to take a patient (after checking its capacity)."""

    from_department_id: Identifier | None = None
    to_department_id: Identifier | None = None
    patient_pseudonym: Pseudonym
    reason_code: Code
    diagnosis_codes: list[DiagnosisCode] = Field(default_factory=list, max_length=20)
    follow_up_plan: FollowUpPlan | None = None
    accept_due_at: Instant = Field(description="When the acceptance SLA of its priority ends.")
    requested_at: Instant


@event_type(
    "referral.referral.accepted.v1", key="referral_id", producer=PRODUCER, identity=("referral_id",)
)
class ReferralAccepted(_ReferralRef):
    """The receiving facility accepted; a downward plan's medications are carried along."""

    follow_up_plan: FollowUpPlan | None = None
    accepted_at: Instant


@event_type(
    "referral.referral.rejected.v1", key="referral_id", producer=PRODUCER, identity=("referral_id",)
)
class ReferralRejected(_ReferralRef):
    """The receiving facility declined."""

    reason_code: Code
    rejected_at: Instant


@event_type(
    "referral.referral.scheduled.v1",
    key="referral_id",
    producer=PRODUCER,
    identity=("referral_id",),
)
class ReferralScheduled(_ReferralRef):
    """A slot or bed was held for the patient."""

    scheduled_for: Instant
    slot_id: Identifier | None = None
    scheduled_at: Instant


@event_type(
    "referral.referral.arrived.v1", key="referral_id", producer=PRODUCER, identity=("referral_id",)
)
class ReferralArrived(_ReferralRef):
    """The patient arrived at the receiving facility."""

    arrived_at: Instant


@event_type(
    "referral.referral.completed.v1",
    key="referral_id",
    producer=PRODUCER,
    identity=("referral_id",),
)
class ReferralCompleted(_ReferralRef):
    """Care was handed over and the record returned to the referring facility."""

    record_returned: bool
    completed_at: Instant


@event_type(
    "referral.referral.cancelled.v1",
    key="referral_id",
    producer=PRODUCER,
    identity=("referral_id",),
)
class ReferralCancelled(_ReferralRef):
    """The referring facility withdrew the referral."""

    reason_code: Code
    cancelled_at: Instant


@event_type(
    "referral.referral.expired.v1", key="referral_id", producer=PRODUCER, identity=("referral_id",)
)
class ReferralExpired(_ReferralRef):
    """A referral was never acted on and lapsed."""

    expired_at: Instant


@event_type(
    "referral.referral.sla_breached.v1",
    key="referral_id",
    producer=PRODUCER,
    identity=("referral_id", "stage"),
)
class ReferralSlaBreached(_ReferralRef):
    """A referral missed the SLA of its priority at one stage; it was escalated."""

    stage: Code = Field(description="The step that was late, e.g. acceptance.")
    due_at: Instant
    breached_at: Instant
    escalated_to_role: Code


@event_type("referral.referral.follow_up_booked.v1", key="referral_id", producer=PRODUCER)
class FollowUpBooked(_ReferralRef):
    """A downward referral's follow-up visit was booked onto a visiting specialist's session."""

    session_id: Identifier
    date: Date
    half_day: HalfDay
    booked_at: Instant


@event_type("referral.referral.follow_up_unbooked.v1", key="referral_id", producer=PRODUCER)
class FollowUpUnbooked(_ReferralRef):
    """A booked follow-up lost its session (the visiting specialist's session was cancelled or
    the referral ended); a rebooking, if one is found, follows as ``follow_up_booked``."""

    session_id: Identifier
    reason_code: Code
    unbooked_at: Instant


# --- receiving capacity: topic referral.capacity, keyed by facility ----------------------------


@event_type("referral.capacity.published.v1", key="facility_id", producer=PRODUCER)
class CapacityPublished(Payload):
    """A receiving department published its referral slots and beds for a day."""

    facility_id: Identifier
    department_id: Identifier
    date: Date
    slots: Count
    beds: Count
    published_at: Instant
