"""Leave over sessions already held: which it cancels and which refuse it.

No session may fall during leave. Planned sessions the leave covers refuse it, unless the
request asks to cancel them (sick leave) and their week is still open; sessions already
held (or checked in) during the leave are a contradiction and always refuse it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from services.staffing.domain.rules import Absence, HeldSession, Rule, Violation
from services.staffing.domain.timetable import editing_closed

__all__ = ["MAX_LEAVE_DAYS", "LeaveOverSessions", "leave_over_sessions"]

#: The longest single leave record (a longer absence is recorded in parts, or the person
#: is deactivated).
MAX_LEAVE_DAYS = 366


@dataclass
class LeaveOverSessions:
    """The sessions the leave cancels, and why it is refused (nothing is cancelled then)."""

    cancelled: list[HeldSession] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)


def leave_over_sessions(
    absence: Absence,
    who: str,
    sessions: Iterable[HeldSession],
    *,
    cancel_sessions: bool,
    today: date,
) -> LeaveOverSessions:
    """What recording ``absence`` does to the person's ``sessions`` (the others are kept)."""
    outcome = LeaveOverSessions()
    for held in sessions:
        if not absence.covers(held.slot):
            continue
        closed = editing_closed(held.slot.date, today=today, slot=held.slot)
        if cancel_sessions and held.planned and not closed:
            outcome.cancelled.append(held)
            continue
        outcome.violations.append(
            Violation(
                Rule.ON_LEAVE,
                f"{who} has session {held.session_id} ({held.status}) on {held.slot}, during "
                "the leave"
                + ("; cancel it first or ask to cancel sessions" if held.planned else ""),
                held.slot,
                held.session_id,
            )
        )
        if cancel_sessions and held.planned:
            outcome.violations += closed
    return outcome
