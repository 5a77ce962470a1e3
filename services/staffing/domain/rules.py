"""The hard rules every booking is checked against, each with a clear reason.

A person's :class:`Diary` (their sessions, leave and stationings around the dates in
question) answers whether a session may be booked in a half-day slot. The rules are facts
about people rather than policy, so they are not configurable:

- ``double_booking``: one person holds one session per half-day;
- ``travel_impossible``: nobody is at two facilities in the same half-day;
- ``on_leave``: no session during leave or declared unavailability;
- ``stationed_elsewhere``: a physician stationed at a member works there, not elsewhere;
- ``staff_not_active``: no session outside the person's active period.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from libs.events.catalogue.values import HalfDay
from services.staffing.domain.calendar import Slot
from services.staffing.domain.registry import is_active
from services.staffing.domain.sessions import SessionStatus

__all__ = ["Absence", "Booking", "Diary", "HeldSession", "Rule", "Stationed", "Violation"]


class Rule(StrEnum):
    DOUBLE_BOOKING = "double_booking"
    TRAVEL_IMPOSSIBLE = "travel_impossible"
    ON_LEAVE = "on_leave"
    STATIONED_ELSEWHERE = "stationed_elsewhere"
    STAFF_NOT_ACTIVE = "staff_not_active"
    HOME_FACILITY = "home_facility"
    NOT_A_SPECIALIST = "not_a_specialist"
    NOT_A_HOST_FACILITY = "not_a_host_facility"
    IN_THE_PAST = "in_the_past"
    WEEK_CLOSED = "week_closed"


@dataclass(frozen=True)
class Violation:
    """One rule one change breaks, and why, in words an HR officer can act on."""

    rule: Rule
    message: str
    slot: Slot | None = None
    session_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule.value,
            "message": self.message,
            "date": self.slot.date.isoformat() if self.slot else None,
            "half_day": self.slot.half_day.value if self.slot else None,
            "session_id": self.session_id,
        }


@dataclass(frozen=True)
class Booking:
    """A session a person already holds."""

    session_id: str
    facility_id: str
    facility_name: str


@dataclass(frozen=True)
class HeldSession:
    """A session that holds a person's half-day (planned, checked in or delivered)."""

    session_id: str
    facility_id: str
    slot: Slot
    status: str

    @property
    def planned(self) -> bool:
        """Only planned yet: it may still be cancelled (one held or begun may not)."""
        return self.status == SessionStatus.PLANNED.value


@dataclass(frozen=True)
class Absence:
    """Leave or declared unavailability: whole days, or one half of each day in the range."""

    leave_id: str
    kind: str
    start: date
    end: date
    half_day: HalfDay | None = None

    def covers(self, slot: Slot) -> bool:
        return self.start <= slot.date <= self.end and self.half_day in (None, slot.half_day)


@dataclass(frozen=True)
class Stationed:
    """A stationing at a member facility, from its first to its last day."""

    stationing_id: str
    facility_id: str
    facility_name: str
    start: date
    last_day: date

    def covers(self, day: date) -> bool:
        return self.start <= day <= self.last_day


@dataclass
class Diary:
    """What one person is already committed to, around the slots being planned."""

    staff_id: str
    display_name: str
    active_from: date
    active_until: date | None
    bookings: dict[Slot, Booking] = field(default_factory=dict)
    absences: list[Absence] = field(default_factory=list)
    stationings: list[Stationed] = field(default_factory=list)

    def absence_at(self, slot: Slot) -> Absence | None:
        return next((a for a in self.absences if a.covers(slot)), None)

    def check(self, slot: Slot, facility_id: str, facility_name: str) -> list[Violation]:
        """Every hard rule a session at ``facility_id`` in ``slot`` would break."""
        found: list[Violation] = []
        who = self.display_name
        if not is_active(self.active_from, self.active_until, slot.date):
            found.append(
                Violation(
                    Rule.STAFF_NOT_ACTIVE,
                    f"{who} is not active on {slot.date.isoformat()} (active "
                    f"{self.active_from.isoformat()} to "
                    f"{self.active_until.isoformat() if self.active_until else 'open'})",
                    slot,
                )
            )
        booked = self.bookings.get(slot)
        if booked is not None and booked.facility_id == facility_id:
            found.append(
                Violation(
                    Rule.DOUBLE_BOOKING,
                    f"{who} already has session {booked.session_id} at {booked.facility_name} "
                    f"on {slot}",
                    slot,
                    booked.session_id,
                )
            )
        elif booked is not None:
            found.append(
                Violation(
                    Rule.TRAVEL_IMPOSSIBLE,
                    f"{who} is at {booked.facility_name} on {slot} (session "
                    f"{booked.session_id}); being at {facility_name} in the same half-day "
                    "is impossible",
                    slot,
                    booked.session_id,
                )
            )
        absence = self.absence_at(slot)
        if absence is not None:
            found.append(
                Violation(
                    Rule.ON_LEAVE,
                    f"{who} is on {absence.kind} ({absence.leave_id}) on {slot}",
                    slot,
                )
            )
        for posting in self.stationings:
            if posting.covers(slot.date) and posting.facility_id != facility_id:
                found.append(
                    Violation(
                        Rule.STATIONED_ELSEWHERE,
                        f"{who} is stationed at {posting.facility_name} ({posting.stationing_id}) "
                        f"on {slot.date.isoformat()}",
                        slot,
                    )
                )
        return found

    def book(self, slot: Slot, booking: Booking) -> None:
        """Hold ``slot`` (so later slots of the same plan are checked against it)."""
        self.bookings[slot] = booking
