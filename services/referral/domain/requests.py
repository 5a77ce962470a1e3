"""A referral request as the rules see it: what a referring facility asks for, and what
follows from it before anyone is asked to take the patient.

Pure: the service layer looks the parties up and hands their roles here; every refusal is
a :class:`~services.referral.domain.rules.ReferralRuleError` or an ``UnknownCode``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from libs.events.catalogue.referral import FollowUpPlan
from libs.events.catalogue.values import GreenChannel, ReferralDirection, ReferralPriority
from services.referral.domain import rules
from services.referral.domain.capacity import CapacityKind
from services.referral.domain.codes import ReferralCodes
from services.referral.domain.follow_up import specialty_key
from services.referral.domain.patient import PatientIdentity

__all__ = ["ReferralRequest"]


@dataclass(frozen=True)
class ReferralRequest:
    """Everything a referring facility says about a patient it sends."""

    direction: ReferralDirection
    priority: ReferralPriority
    from_facility_id: str
    to_facility_id: str
    patient: PatientIdentity
    reason_code: str
    diagnosis_codes: list[str] = field(default_factory=list)
    green_channel: GreenChannel | None = None
    from_department_id: str | None = None
    to_department_id: str | None = None
    needs_bed: bool = False
    clinical_note: str | None = field(default=None, repr=False)
    follow_up_plan: FollowUpPlan | None = None
    requested_at: datetime | None = None

    def entered_at(self, now: datetime) -> datetime:
        """When the patient was referred: as stated (the phone call came first) or now."""
        # Stored and compared in UTC (SQLite keeps no offset).
        return (self.requested_at or now).astimezone(UTC)

    @property
    def drug_codes(self) -> list[str]:
        """The drugs the follow-up plan prescribes (none without a plan)."""
        plan = self.follow_up_plan
        return [m.drug_code for m in plan.medications] if plan is not None else []

    def check(self, now: datetime, backdate_limit: timedelta, codes: ReferralCodes) -> None:
        """The rules that need no look-up: when, how urgent, the plan, the reason code."""
        rules.check_requested_at(self.entered_at(now), now, backdate_limit)
        rules.check_priority(
            self.direction, self.priority, self.green_channel, self.follow_up_plan is not None
        )
        rules.check_medications(self.drug_codes)
        codes.check_request_reason(self.direction, self.reason_code)

    def check_route(self, origin: rules.FacilityRole, destination: rules.FacilityRole) -> None:
        """The parties, once looked up, suit the direction (up to a hospital, down from one)."""
        rules.check_route(self.direction, origin, destination)

    @property
    def capacity_needed(self) -> CapacityKind | None:
        """What the receiving department must have free before the patient is sent.

        None when no department is named (nothing to count), and for emergencies: a green
        channel or other emergency patient is taken whatever the count.
        """
        if not self.to_department_id or self.priority is ReferralPriority.EMERGENCY:
            return None
        return CapacityKind.BED if self.needs_bed else CapacityKind.SLOT

    def follow_up_specialty(self, referring_specialty: str | None) -> str | None:
        """The specialty that follows the patient up after a downward referral, as stored:
        the plan's, else the referring department's; None without a plan."""
        plan = self.follow_up_plan
        if plan is None:
            return None
        specialty = plan.follow_up_specialty or referring_specialty
        return specialty_key(specialty) if specialty else None
