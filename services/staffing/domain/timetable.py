"""The weekly timetable's states: draft → published (frozen, announced) → closed.

Publishing a week announces it to residents and other services, one event per host
facility. After that the week is frozen: every change to it is an explicit amendment that
is announced as a change (added, cancelled, changed). A week is closed once it has ended:
its plan is history and can no longer be edited; attendance can still be recorded.
"""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum

from services.staffing.domain.calendar import Slot, week_start
from services.staffing.domain.rules import Rule, Violation

__all__ = [
    "WeekNotOpen",
    "WeekStatus",
    "editing_closed",
    "ensure_editable",
    "ensure_publishable",
    "week_status",
]


class WeekStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CLOSED = "closed"


class WeekNotOpen(Exception):
    """The week cannot take this change; ``code`` says why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def week_status(monday: date, *, published: bool, today: date) -> WeekStatus:
    """Where the week starting on ``monday`` stands on ``today``."""
    if monday + timedelta(days=6) < today:
        return WeekStatus.CLOSED
    return WeekStatus.PUBLISHED if published else WeekStatus.DRAFT


def ensure_editable(day: date, *, today: date) -> None:
    """A session on ``day`` may be planned or cancelled: its week is open and it is not past."""
    monday = week_start(day)
    if week_status(monday, published=False, today=today) is WeekStatus.CLOSED:
        raise WeekNotOpen(
            "week_closed", f"the week of {monday.isoformat()} has ended and is closed"
        )
    if day < today:
        raise WeekNotOpen("in_the_past", f"{day.isoformat()} is in the past")


def editing_closed(day: date, *, today: date, slot: Slot | None = None) -> list[Violation]:
    """Why a session on ``day`` can no longer be planned or cancelled (empty if it can)."""
    try:
        ensure_editable(day, today=today)
    except WeekNotOpen as exc:
        return [Violation(Rule(exc.code), exc.message, slot)]
    return []


def ensure_publishable(monday: date, *, published: bool, today: date) -> None:
    """The week starting on ``monday`` may be published now."""
    if monday.weekday() != 0:
        raise WeekNotOpen("not_a_monday", f"{monday.isoformat()} is not a Monday")
    status = week_status(monday, published=published, today=today)
    if status is WeekStatus.CLOSED:
        raise WeekNotOpen(
            "week_closed", f"the week of {monday.isoformat()} has ended and is closed"
        )
    if status is WeekStatus.PUBLISHED:
        raise WeekNotOpen(
            "week_already_published",
            f"the week of {monday.isoformat()} is already published; changes to it are "
            "announced one by one",
        )
