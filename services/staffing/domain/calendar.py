"""The grid the rotation plan is drawn on: weeks starting on Monday, half-day slots."""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from libs.events.catalogue.values import HalfDay

__all__ = [
    "HALF_DAY_ORDER",
    "Slot",
    "Weekday",
    "add_months",
    "week_days",
    "week_start",
    "working_slots",
]

#: Mornings come before afternoons.
HALF_DAY_ORDER = {HalfDay.MORNING: 0, HalfDay.AFTERNOON: 1}


class Weekday(StrEnum):
    MONDAY = "monday"
    TUESDAY = "tuesday"
    WEDNESDAY = "wednesday"
    THURSDAY = "thursday"
    FRIDAY = "friday"
    SATURDAY = "saturday"
    SUNDAY = "sunday"

    @property
    def number(self) -> int:
        """Monday is 0, as :meth:`datetime.date.weekday` counts."""
        return list(Weekday).index(self)


@dataclass(frozen=True)
class Slot:
    """One half-day of one date: the unit a person can be booked for."""

    date: dt.date
    half_day: HalfDay

    @property
    def sort_key(self) -> tuple[dt.date, int]:
        return self.date, HALF_DAY_ORDER[self.half_day]

    def __str__(self) -> str:
        return f"{self.date.isoformat()} {self.half_day.value}"


def week_start(day: date) -> date:
    """The Monday of the week ``day`` falls in."""
    return day - timedelta(days=day.weekday())


def week_days(monday: date) -> list[date]:
    """The seven dates of the week starting on ``monday``."""
    return [monday + timedelta(days=n) for n in range(7)]


def working_slots(monday: date) -> list[Slot]:
    """The ten half-days of a working week (Monday to Friday)."""
    return [Slot(day, half) for day in week_days(monday)[:5] for half in HalfDay]


def add_months(day: date, months: int) -> date:
    """``day`` plus whole months, clamped to the end of a shorter month (31 Jan + 1 = 28 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
