"""A session's life: planned → checked in → delivered, or planned → missed | cancelled.

Every transition is allowed once. Repeating one (a second check-in, a second check-out) is
refused with an answer that says what already happened, so a repeated request can never
produce a second ``session delivered`` event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

__all__ = ["HOLDING", "Action", "SessionStatus", "TransitionRefused", "transition"]


class SessionStatus(StrEnum):
    PLANNED = "planned"
    CHECKED_IN = "checked_in"
    DELIVERED = "delivered"
    MISSED = "missed"
    CANCELLED = "cancelled"


#: Session states that hold the person's half-day (a missed or cancelled one frees it).
HOLDING = (
    SessionStatus.PLANNED.value,
    SessionStatus.CHECKED_IN.value,
    SessionStatus.DELIVERED.value,
)


class Action(StrEnum):
    CHECK_IN = "check_in"
    CHECK_OUT = "check_out"
    NO_SHOW = "no_show"
    CANCEL = "cancel"


_NEXT = {
    (SessionStatus.PLANNED, Action.CHECK_IN): SessionStatus.CHECKED_IN,
    (SessionStatus.CHECKED_IN, Action.CHECK_OUT): SessionStatus.DELIVERED,
    (SessionStatus.PLANNED, Action.NO_SHOW): SessionStatus.MISSED,
    (SessionStatus.PLANNED, Action.CANCEL): SessionStatus.CANCELLED,
}

#: Why an action is refused in a state, keyed by that state; the code is stable for clients.
_REFUSALS = {
    SessionStatus.PLANNED: ("not_checked_in", "the session has not been checked in"),
    SessionStatus.CHECKED_IN: ("already_checked_in", "the session is already checked in"),
    SessionStatus.DELIVERED: ("already_delivered", "the session was already delivered"),
    SessionStatus.MISSED: ("recorded_as_missed", "the session was recorded as a no-show"),
    SessionStatus.CANCELLED: ("session_cancelled", "the session was cancelled"),
}


@dataclass
class TransitionRefused(Exception):
    """The action is not possible in the session's state (or not yet)."""

    code: str
    message: str
    status: SessionStatus

    def __str__(self) -> str:
        return self.message


def transition(
    status: SessionStatus, action: Action, *, session_date: date, today: date
) -> SessionStatus:
    """The state after ``action``, or :class:`TransitionRefused` with the reason."""
    target = _NEXT.get((status, action))
    if target is None:
        code, message = _REFUSALS[status]
        raise TransitionRefused(code, f"cannot {action.value.replace('_', ' ')}: {message}", status)
    if action in (Action.CHECK_IN, Action.NO_SHOW) and session_date > today:
        raise TransitionRefused(
            "too_early",
            f"cannot {action.value.replace('_', ' ')} before the session's day "
            f"({session_date.isoformat()})",
            status,
        )
    return target
