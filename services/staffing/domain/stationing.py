"""Who may be stationed (派驻) at a member facility, and what a stationing may not overlap.

A stationed physician works at the member for months: they must be a lead-hospital
specialist, active from the first day, not stationed anywhere else meanwhile, and hold no
session at another facility during the stationing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from libs.events.catalogue.values import FacilityType, StaffTitle
from services.staffing.domain.policy import SpecialistScope
from services.staffing.domain.registry import is_active
from services.staffing.domain.rules import Diary, HeldSession, Rule, Violation

__all__ = ["Posting", "specialist_violations"]


def specialist_violations(
    scope: SpecialistScope,
    *,
    who: str,
    title: StaffTitle,
    home_type: FacilityType,
    home_name: str,
) -> list[Violation]:
    """Empty if the person is one the lead hospitals send down (by home and title)."""
    if home_type in scope.home_facility_types and title in scope.titles:
        return []
    return [
        Violation(
            Rule.NOT_A_SPECIALIST,
            f"{who} ({title.value} at {home_name}) is not a lead-hospital "
            "specialist who can be stationed at a member",
        )
    ]


@dataclass(frozen=True)
class Posting:
    """A stationing being planned: at ``host_id`` from ``start`` to ``planned_end``."""

    host_id: str
    host_name: str
    start: date
    planned_end: date

    def __post_init__(self) -> None:
        if self.planned_end < self.start:
            raise ValueError("a stationing ends on or after the day it starts")

    def conflicts(self, diary: Diary, sessions: Iterable[HeldSession]) -> list[Violation]:
        """Everything in the person's diary the stationing would contradict."""
        who = diary.display_name
        found = []
        if not is_active(diary.active_from, diary.active_until, self.start):
            found.append(
                Violation(Rule.STAFF_NOT_ACTIVE, f"{who} is not active on {self.start.isoformat()}")
            )
        for posting in diary.stationings:
            if posting.start <= self.planned_end and posting.last_day >= self.start:
                found.append(
                    Violation(
                        Rule.STATIONED_ELSEWHERE,
                        f"{who} is already stationed at {posting.facility_name} "
                        f"({posting.stationing_id}) from {posting.start.isoformat()} to "
                        f"{posting.last_day.isoformat()}",
                    )
                )
        for held in sessions:
            if (
                held.facility_id != self.host_id
                and self.start <= held.slot.date <= self.planned_end
            ):
                found.append(
                    Violation(
                        Rule.STATIONED_ELSEWHERE,
                        f"{who} has session {held.session_id} at {held.facility_id} on "
                        f"{held.slot}, during the stationing at {self.host_name}",
                        held.slot,
                        held.session_id,
                    )
                )
        return found
