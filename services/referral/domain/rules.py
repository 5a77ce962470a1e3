"""What makes a referral request acceptable, before anyone is asked to take the patient.

Pure rules over plain values: the service layer looks the facilities up in its copy of the
organisation and hands their types here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from libs.events.catalogue.values import (
    FacilityType,
    GreenChannel,
    ReferralDirection,
    ReferralPriority,
)

__all__ = [
    "HOSPITAL_TYPES",
    "FacilityRole",
    "ReferralRuleError",
    "check_medications",
    "check_priority",
    "check_requested_at",
    "check_route",
]

#: Facilities that receive upward referrals and send patients down (the lead hospitals).
HOSPITAL_TYPES = frozenset({FacilityType.COUNTY_HOSPITAL, FacilityType.TCM_HOSPITAL})


class ReferralRuleError(Exception):
    """A request that breaks a referral rule; ``code`` is stable for clients."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class FacilityRole:
    """A party as the rules see it: its id, type and whether it names a department."""

    facility_id: str
    facility_type: FacilityType
    department_id: str | None = None

    @property
    def is_hospital(self) -> bool:
        return self.facility_type in HOSPITAL_TYPES


def check_route(
    direction: ReferralDirection, origin: FacilityRole, destination: FacilityRole
) -> None:
    """Up goes from a primary-care facility to a hospital, down the other way round."""
    if origin.facility_id == destination.facility_id:
        raise ReferralRuleError("same_facility", "a facility cannot refer a patient to itself")
    if direction is ReferralDirection.UP:
        if origin.is_hospital or not destination.is_hospital:
            raise ReferralRuleError(
                "direction_mismatch",
                "an upward referral goes from a primary-care facility to a county hospital",
            )
        if destination.department_id is None:
            raise ReferralRuleError(
                "department_required",
                "an upward referral names the receiving department (its slots and beds)",
            )
    elif not origin.is_hospital or destination.is_hospital:
        raise ReferralRuleError(
            "direction_mismatch",
            "a downward referral goes from a county hospital to a primary-care facility",
        )


def check_priority(
    direction: ReferralDirection,
    priority: ReferralPriority,
    green_channel: GreenChannel | None,
    has_follow_up_plan: bool,
) -> None:
    """Green channels are upward emergencies; downward referrals carry a follow-up plan."""
    if green_channel is not None and (
        priority is not ReferralPriority.EMERGENCY or direction is not ReferralDirection.UP
    ):
        raise ReferralRuleError(
            "green_channel_not_allowed",
            "a green channel (chest pain, stroke, trauma) is only for upward emergencies",
        )
    if direction is ReferralDirection.DOWN:
        if priority is ReferralPriority.EMERGENCY:
            raise ReferralRuleError(
                "priority_not_allowed",
                "patients are referred down when stable, never as emergencies",
            )
        if not has_follow_up_plan:
            raise ReferralRuleError(
                "follow_up_plan_required", "a downward referral carries a follow-up plan"
            )
    elif has_follow_up_plan:
        raise ReferralRuleError(
            "follow_up_plan_not_allowed", "only downward referrals carry a follow-up plan"
        )


def check_medications(drug_codes: Sequence[str]) -> None:
    """One line per drug in a follow-up plan."""
    if len(set(drug_codes)) != len(drug_codes):
        raise ReferralRuleError(
            "duplicate_medication", "a drug appears twice in the follow-up plan"
        )


def check_requested_at(requested_at: datetime, now: datetime, backdate_limit: timedelta) -> None:
    """A referral may be entered after the fact (the phone call came first), never ahead of
    time. Back-dating only brings its deadlines closer, so it cannot hide a breach."""
    if requested_at > now + timedelta(minutes=1):
        raise ReferralRuleError("requested_in_future", "requested_at is in the future")
    if requested_at < now - backdate_limit:
        raise ReferralRuleError(
            "requested_too_long_ago",
            f"requested_at may be at most {backdate_limit} before now",
        )
