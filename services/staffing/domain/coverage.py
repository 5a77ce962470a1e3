"""The community's coverage rules, evaluated for one week.

Three kinds of rule (values in ``infra/staffing/rules.yaml``):

- ``min_days_per_staff``: each specialist of some titles spends at least N days a week at
  facilities of some types (e.g. associate chief or above: one day at a community centre);
- ``average_days``: a community's specialists average about N days a week down at members;
- ``min_stationed``: each facility of some types has at least N physicians stationed there
  for M months or more.

Days are half-day sessions divided by the policy's half-days per day. A session counts
unless it was cancelled or missed. A specialist on leave for the whole working week is not
held to a weekly rule that week.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from libs.events.catalogue.values import FacilityType, StaffTitle
from services.staffing.domain.calendar import add_months, working_slots
from services.staffing.domain.policy import (
    AverageDays,
    CoverageRule,
    MinDaysPerStaff,
    MinStationed,
    StaffingPolicy,
)
from services.staffing.domain.rules import Absence

__all__ = [
    "Check",
    "FacilityFacts",
    "RuleResult",
    "SessionFacts",
    "StaffFacts",
    "StationingFacts",
    "WeekCoverage",
    "WeekFacts",
    "away_all_week",
    "evaluate",
]


@dataclass(frozen=True)
class StaffFacts:
    staff_id: str
    display_name: str
    title: StaffTitle
    home_facility_type: FacilityType
    community_id: str
    away_all_week: bool = False


def away_all_week(absences: Iterable[Absence], monday: date) -> bool:
    """On leave for every working half-day of the week from ``monday``: not held to a
    weekly rule that week."""
    known = list(absences)
    return all(any(a.covers(slot) for a in known) for slot in working_slots(monday))


@dataclass(frozen=True)
class SessionFacts:
    staff_id: str
    facility_type: FacilityType


@dataclass(frozen=True)
class FacilityFacts:
    facility_id: str
    name: str
    facility_type: FacilityType


@dataclass(frozen=True)
class StationingFacts:
    staff_id: str
    facility_id: str
    start: date
    planned_end: date
    ended_on: date | None = None

    def lasts(self, months: int) -> bool:
        """Planned for ``months`` or more (six months from 1 March end on 31 August)."""
        return self.planned_end >= add_months(self.start, months) - timedelta(days=1)

    def overlaps(self, monday: date) -> bool:
        last = self.ended_on or self.planned_end
        return self.start <= monday + timedelta(days=6) and last >= monday


@dataclass(frozen=True)
class WeekFacts:
    """Everything the rules need about one week: who is in scope, who went where."""

    week_start: date
    staff: list[StaffFacts]
    sessions: list[SessionFacts]
    facilities: list[FacilityFacts]
    stationings: list[StationingFacts]


@dataclass(frozen=True)
class Check:
    """One subject of one rule (a person, a community, a facility): met or missed, and why."""

    subject_type: str
    subject_id: str
    subject_name: str
    met: bool
    actual: Decimal
    required: Decimal
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "subject_type": self.subject_type,
            "subject_id": self.subject_id,
            "subject_name": self.subject_name,
            "met": self.met,
            "actual": str(self.actual),
            "required": str(self.required),
            "reason": self.reason,
        }


@dataclass(frozen=True)
class RuleResult:
    rule_id: str
    kind: str
    description: str
    checks: list[Check]

    @property
    def met(self) -> bool:
        return all(check.met for check in self.checks)

    @property
    def misses(self) -> list[Check]:
        return [check for check in self.checks if not check.met]


@dataclass(frozen=True)
class WeekCoverage:
    week_start: date
    rules: list[RuleResult]

    @property
    def met(self) -> bool:
        return all(rule.met for rule in self.rules)


def evaluate(policy: StaffingPolicy, facts: WeekFacts) -> WeekCoverage:
    """Each configured rule's result for the week."""
    return WeekCoverage(
        facts.week_start, [_evaluate(rule, policy, facts) for rule in policy.coverage]
    )


def _evaluate(rule: CoverageRule, policy: StaffingPolicy, facts: WeekFacts) -> RuleResult:
    if isinstance(rule, MinDaysPerStaff):
        checks = _min_days(rule, policy, facts)
    elif isinstance(rule, AverageDays):
        checks = _average_days(rule, policy, facts)
    else:
        checks = _min_stationed(rule, facts)
    return RuleResult(rule.rule_id, rule.kind, rule.description, checks)


def _in_scope(
    policy: StaffingPolicy, facts: WeekFacts, titles: frozenset[StaffTitle]
) -> list[StaffFacts]:
    return [
        s
        for s in facts.staff
        if s.title in titles
        and s.home_facility_type in policy.specialists.home_facility_types
        and not s.away_all_week
    ]


def _days(
    policy: StaffingPolicy, facts: WeekFacts, at: frozenset[FacilityType]
) -> dict[str, Decimal]:
    half_days: dict[str, int] = defaultdict(int)
    for session in facts.sessions:
        if session.facility_type in at:
            half_days[session.staff_id] += 1
    per_day = Decimal(policy.half_days_per_day)
    return {staff_id: Decimal(n) / per_day for staff_id, n in half_days.items()}


def _types(types: frozenset[FacilityType]) -> str:
    return ", ".join(sorted(t.value for t in types))


def _min_days(rule: MinDaysPerStaff, policy: StaffingPolicy, facts: WeekFacts) -> list[Check]:
    days = _days(policy, facts, rule.at_facility_types)
    checks = []
    for staff in sorted(_in_scope(policy, facts, rule.titles), key=lambda s: s.staff_id):
        actual = days.get(staff.staff_id, Decimal(0))
        met = actual >= rule.min_days
        checks.append(
            Check(
                "staff",
                staff.staff_id,
                staff.display_name,
                met,
                actual,
                rule.min_days,
                f"{actual.normalize():f} day(s) at {_types(rule.at_facility_types)}"
                + ("" if met else f", fewer than {rule.min_days.normalize():f}"),
            )
        )
    return checks


def _average_days(rule: AverageDays, policy: StaffingPolicy, facts: WeekFacts) -> list[Check]:
    days = _days(policy, facts, rule.at_facility_types)
    by_community: dict[str, list[StaffFacts]] = defaultdict(list)
    for staff in _in_scope(policy, facts, rule.titles):
        by_community[staff.community_id].append(staff)
    checks = []
    for community_id, members in sorted(by_community.items()):
        total = sum((days.get(s.staff_id, Decimal(0)) for s in members), Decimal(0))
        average = (total / len(members)).quantize(Decimal("0.01"))
        met = average >= rule.threshold
        checks.append(
            Check(
                "community",
                community_id,
                community_id,
                met,
                average,
                rule.threshold,
                f"{len(members)} specialist(s) average {average:f} day(s) at "
                f"{_types(rule.at_facility_types)} (target {rule.target_days.normalize():f}"
                + ("" if met else f", below {rule.threshold.normalize():f}")
                + ")",
            )
        )
    return checks


def _min_stationed(rule: MinStationed, facts: WeekFacts) -> list[Check]:
    stationed: dict[str, set[str]] = defaultdict(set)
    for posting in facts.stationings:
        if posting.overlaps(facts.week_start) and posting.lasts(rule.min_months):
            stationed[posting.facility_id].add(posting.staff_id)
    checks = []
    for facility in sorted(facts.facilities, key=lambda f: f.facility_id):
        if facility.facility_type not in rule.facility_types:
            continue
        count = len(stationed.get(facility.facility_id, ()))
        met = count >= rule.min_physicians
        checks.append(
            Check(
                "facility",
                facility.facility_id,
                facility.name,
                met,
                Decimal(count),
                Decimal(rule.min_physicians),
                f"{count} physician(s) stationed for {rule.min_months} months or more"
                + ("" if met else f", fewer than {rule.min_physicians}"),
            )
        )
    return checks
