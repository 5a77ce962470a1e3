"""Recurring weekly patterns (Tuesday mornings at 东湖镇卫生院 from March to August) and the
sessions they generate.

A pattern skips the half-days its person is on leave (leave is known in advance and the
pattern resumes after it); anything else that stands in the way refuses the whole pattern,
with every violation listed, so a plan is never half made.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from libs.events.catalogue.values import HalfDay
from services.staffing.domain.calendar import Slot, Weekday
from services.staffing.domain.rules import Absence, Diary, Violation

__all__ = ["RotationPattern", "RotationPlan", "WeeklySlot", "plan_rotation"]


@dataclass(frozen=True)
class WeeklySlot:
    weekday: Weekday
    half_day: HalfDay


@dataclass(frozen=True)
class RotationPattern:
    """Half-days of the week, repeated every week from ``start`` to ``end`` (inclusive)."""

    slots: frozenset[WeeklySlot]
    start: date
    end: date

    def __post_init__(self) -> None:
        if not self.slots:
            raise ValueError("a pattern needs at least one weekly half-day")
        if self.end < self.start:
            raise ValueError("a pattern ends on or after the day it starts")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def occurrences(self) -> list[Slot]:
        """Every half-day the pattern covers, in time order."""
        wanted: dict[int, list[HalfDay]] = {}
        for slot in self.slots:
            wanted.setdefault(slot.weekday.number, []).append(slot.half_day)
        found = []
        day = self.start
        while day <= self.end:
            for half in HalfDay:  # declaration order: morning first
                if half in wanted.get(day.weekday(), ()):
                    found.append(Slot(day, half))
            day += timedelta(days=1)
        return found


@dataclass
class RotationPlan:
    """What a pattern would do: sessions to plan, half-days skipped for leave, violations."""

    sessions: list[Slot] = field(default_factory=list)
    skipped: list[tuple[Slot, Absence]] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)


def plan_rotation(
    pattern: RotationPattern, diary: Diary, facility_id: str, facility_name: str
) -> RotationPlan:
    """Check every occurrence of ``pattern`` against ``diary``; leave days are skipped."""
    plan = RotationPlan()
    for slot in pattern.occurrences():
        absence = diary.absence_at(slot)
        if absence is not None:
            plan.skipped.append((slot, absence))
            continue
        problems = diary.check(slot, facility_id, facility_name)
        if problems:
            plan.violations.extend(problems)
        else:
            plan.sessions.append(slot)
    return plan
