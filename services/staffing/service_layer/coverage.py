"""The coverage report: which of the community's rules each week meets or misses."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from libs.events.catalogue.values import FacilityType, HalfDay, StaffTitle
from services.staffing.adapters.schema import (
    ExpertSession,
    Facility,
    Leave,
    StaffMember,
    Stationing,
)
from services.staffing.domain.calendar import week_start
from services.staffing.domain.coverage import (
    FacilityFacts,
    SessionFacts,
    StaffFacts,
    StationingFacts,
    WeekCoverage,
    WeekFacts,
    away_all_week,
    evaluate,
)
from services.staffing.domain.rules import Absence
from services.staffing.service_layer.lookup import HOLDING
from services.staffing.service_layer.unit_of_work import StaffingUnitOfWork

__all__ = ["MAX_WEEKS", "coverage_report", "notes", "week_facts"]

#: The most weeks one report covers.
MAX_WEEKS = 12


def _absences(session: Session, monday: date, sunday: date) -> dict[str, list[Absence]]:
    """Each person's leave that touches the week, by staff id."""
    absences: dict[str, list[Absence]] = defaultdict(list)
    for leave in session.scalars(
        select(Leave).where(
            Leave.withdrawn_at.is_(None), Leave.start_date <= sunday, Leave.end_date >= monday
        )
    ):
        half = HalfDay(leave.half_day) if leave.half_day else None
        absences[leave.staff_id].append(
            Absence(leave.leave_id, leave.kind, leave.start_date, leave.end_date, half)
        )
    return absences


def _staff_facts(
    session: Session, facilities: dict[str, Facility], monday: date
) -> list[StaffFacts]:
    """The people active at some point of the week, with their home and whether they are
    away all of it."""
    sunday = monday + timedelta(days=6)
    people = session.scalars(
        select(StaffMember).where(
            StaffMember.active_from <= sunday,
            (StaffMember.active_until.is_(None)) | (StaffMember.active_until >= monday),
        )
    ).all()
    absences = _absences(session, monday, sunday)
    staff = []
    for person in people:
        home = facilities.get(person.home_facility_id)
        if home is None:
            continue
        staff.append(
            StaffFacts(
                staff_id=person.staff_id,
                display_name=person.display_name,
                title=StaffTitle(person.title),
                home_facility_type=FacilityType(home.facility_type),
                community_id=home.community_id,
                away_all_week=away_all_week(absences[person.staff_id], monday),
            )
        )
    return staff


def week_facts(uow: StaffingUnitOfWork, monday: date) -> WeekFacts:
    """What the coverage rules need about the week starting on ``monday`` (open uow)."""
    session = uow.session
    sunday = monday + timedelta(days=6)
    facilities = {f.facility_id: f for f in session.scalars(select(Facility))}
    sessions = [
        SessionFacts(staff_id, FacilityType(facilities[facility_id].facility_type))
        for staff_id, facility_id in session.execute(
            select(ExpertSession.staff_id, ExpertSession.facility_id).where(
                ExpertSession.week_start == monday, ExpertSession.status.in_(HOLDING)
            )
        ).tuples()
        if facility_id in facilities
    ]
    stationings = [
        StationingFacts(s.staff_id, s.facility_id, s.start_date, s.planned_end_date, s.end_date)
        for s in session.scalars(select(Stationing).where(Stationing.start_date <= sunday))
    ]
    return WeekFacts(
        week_start=monday,
        staff=_staff_facts(session, facilities, monday),
        sessions=sessions,
        facilities=[
            FacilityFacts(f.facility_id, f.name, FacilityType(f.facility_type))
            for f in facilities.values()
            if f.active
        ],
        stationings=stationings,
    )


def coverage_report(uow: StaffingUnitOfWork, first_monday: date, weeks: int) -> list[WeekCoverage]:
    """Each rule's result for ``weeks`` weeks from ``first_monday``."""
    with uow:
        return [
            evaluate(uow.policy, week_facts(uow, first_monday + timedelta(weeks=n)))
            for n in range(weeks)
        ]


def notes(uow: StaffingUnitOfWork, staff_id: str, days: Iterable[date]) -> list[dict[str, Any]]:
    """The coverage rules a person (or their community) still misses in the weeks of
    ``days``, the first :data:`MAX_WEEKS` of them: what a planner sees after each change.

    Coverage rules are targets, not refusals: a plan is built a change at a time and may
    fall short until it is complete.
    """
    mondays = sorted({week_start(day) for day in days})[:MAX_WEEKS]
    found: list[dict[str, Any]] = []
    with uow:
        person = uow.session.get(StaffMember, staff_id)
        home = uow.session.get(Facility, person.home_facility_id) if person else None
        subjects = {staff_id} | ({home.community_id} if home else set())
        for monday in mondays:
            report = evaluate(uow.policy, week_facts(uow, monday))
            for rule in report.rules:
                for check in rule.misses:
                    if check.subject_id in subjects:
                        found.append(
                            {"week_start": monday.isoformat(), "rule_id": rule.rule_id}
                            | check.as_dict()
                        )
    return found
