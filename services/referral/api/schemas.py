"""Bodies and responses of the referral admin API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from libs.events.catalogue.referral import FollowUpPlan
from libs.events.catalogue.values import GreenChannel, ReferralDirection, ReferralPriority
from libs.events.payload import Code, Count, DiagnosisCode, Identifier
from services.referral.domain.patient import is_resident_id

_INPUT = ConfigDict(extra="forbid", hide_input_in_errors=True)


class PatientIn(BaseModel):
    """Who is referred. Stays in the referral service (encrypted); events carry a pseudonym."""

    model_config = _INPUT

    name: str = Field(min_length=1, max_length=100)
    national_id: str = Field(description="18-character resident identity number (身份证号).")

    @field_validator("national_id")
    @classmethod
    def _resident_id(cls, value: str) -> str:
        if not is_resident_id(value):  # the message never repeats the value
            raise ValueError("not a valid 18-character resident identity number")
        return value


class ReferralIn(BaseModel):
    """A referral request from the referring facility."""

    model_config = _INPUT

    direction: ReferralDirection
    priority: ReferralPriority
    green_channel: GreenChannel | None = Field(
        default=None, description="Chest pain, stroke or trauma: upward emergencies only."
    )
    from_facility_id: Identifier
    from_department_id: Identifier | None = None
    to_facility_id: Identifier
    to_department_id: Identifier | None = Field(
        default=None, description="Required upward: the department whose slots/beds are used."
    )
    patient: PatientIn
    reason_code: Code = Field(description="From infra/referral/codes.yaml, per direction.")
    diagnosis_codes: list[DiagnosisCode] = Field(default_factory=list, max_length=20)
    needs_bed: bool = Field(default=False, description="An admission (bed) rather than a slot.")
    clinical_note: str | None = Field(
        default=None, max_length=4000, description="Free text; never leaves this service."
    )
    follow_up_plan: FollowUpPlan | None = Field(
        default=None, description="Required downward: medications and the follow-up visit."
    )
    requested_at: AwareDatetime | None = Field(
        default=None, description="When the referral was asked for, if entered afterwards."
    )


class ReasonIn(BaseModel):
    model_config = _INPUT

    reason_code: Code


class ScheduleIn(BaseModel):
    model_config = _INPUT

    scheduled_for: AwareDatetime


class CompleteIn(BaseModel):
    model_config = _INPUT

    record_returned: bool = Field(
        default=True, description="The full record was returned to the referring facility."
    )


class CapacityIn(BaseModel):
    model_config = _INPUT

    slots: Count
    beds: Count


class PatientView(BaseModel):
    name: str
    national_id: str = Field(description="Masked in lists, full in the detail.")
    pseudonym: str


class ReferralSummary(BaseModel):
    referral_id: str
    state: str
    direction: str
    priority: str
    green_channel: str | None
    from_facility_id: str
    from_department_id: str | None
    to_facility_id: str
    to_department_id: str | None
    reason_code: str
    diagnosis_codes: list[str]
    patient: PatientView
    requested_at: datetime
    accept_due_at: datetime
    scheduled_for: datetime | None
    escalated_to_role: str | None
    updated_at: datetime


class Breach(BaseModel):
    stage: str
    due_at: datetime
    breached_at: datetime
    escalated_to_role: str


class Hold(BaseModel):
    hold_id: str
    department_id: str
    day: date
    kind: str


class Booking(BaseModel):
    session_id: str
    date: date
    half_day: str
    specialty: str


class ReferralDetail(ReferralSummary):
    needs_bed: bool
    clinical_note: str | None
    follow_up_plan: dict[str, Any] | None
    expire_at: datetime
    arrive_due_at: datetime | None
    decided_at: datetime | None
    arrived_at: datetime | None
    completed_at: datetime | None
    record_returned: bool | None
    ended_at: datetime | None
    end_reason_code: str | None
    allowed_actions: list[str] = Field(description="What this caller may do next.")
    sla_breaches: list[Breach]
    capacity_hold: Hold | None
    follow_up_booking: Booking | None


class Created(ReferralDetail):
    earliest_free_day: date | None = Field(
        description="The first day the receiving department had a free slot/bed."
    )


class TimelineStep(BaseModel):
    at: datetime
    kind: str
    state: str
    actor: str
    details: dict[str, Any]
    event_id: str | None


class CapacityDay(BaseModel):
    facility_id: str
    department_id: str
    day: date
    slots: int
    beds: int
    held_slots: int
    held_beds: int
    free_slots: int
    free_beds: int
