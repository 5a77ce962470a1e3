"""Stationing (派驻): a lead-hospital physician based at a member facility for months.

The number of stationed physicians is a national monitoring indicator, announced with
``staffing.stationing.started``/``ended``. A stationed physician works at the member: no
session elsewhere during the stationing, and no two stationings of one person at once.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from libs.events.catalogue.staffing import StationingEnded, StationingStarted
from libs.events.catalogue.values import FacilityType, HalfDay, StaffTitle
from services.staffing.adapters.schema import ExpertSession, StaffMember, Stationing
from services.staffing.domain.calendar import Slot
from services.staffing.domain.registry import is_active
from services.staffing.domain.rules import Rule, Violation
from services.staffing.service_layer import lookup
from services.staffing.service_layer.errors import Conflict, Invalid, NotFound
from services.staffing.service_layer.unit_of_work import StaffingUnitOfWork

__all__ = ["end_stationing", "finish", "start_stationing"]


def _eligible(uow: StaffingUnitOfWork, staff: StaffMember) -> list[Violation]:
    scope = uow.policy.specialists
    home = lookup.facility(uow, staff.home_facility_id)
    if FacilityType(home.facility_type) in scope.home_facility_types and (
        StaffTitle(staff.title) in scope.titles
    ):
        return []
    return [
        Violation(
            Rule.NOT_A_SPECIALIST,
            f"{staff.display_name} ({staff.title} at {home.name}) is not a lead-hospital "
            "specialist who can be stationed at a member",
        )
    ]


def start_stationing(
    uow: StaffingUnitOfWork, *, staff_id: str, facility_id: str, start: date, planned_end: date
) -> Stationing:
    """Station a specialist at a member facility from ``start`` to ``planned_end``."""
    if planned_end < start:
        raise Invalid("invalid_period", "a stationing ends on or after the day it starts")
    with uow:
        staff = lookup.staff_member(uow, staff_id)
        host, problems = lookup.host_facility(uow, facility_id, staff)
        problems += _eligible(uow, staff)
        if not is_active(staff.active_from, staff.active_until, start):
            problems.append(
                Violation(
                    Rule.STAFF_NOT_ACTIVE,
                    f"{staff.display_name} is not active on {start.isoformat()}",
                )
            )
        diary = lookup.diary(uow, staff, start, planned_end)
        for posting in diary.stationings:
            problems.append(
                Violation(
                    Rule.STATIONED_ELSEWHERE,
                    f"{staff.display_name} is already stationed at {posting.facility_name} "
                    f"({posting.stationing_id}) from {posting.start.isoformat()} to "
                    f"{posting.last_day.isoformat()}",
                )
            )
        away = uow.session.scalars(
            select(ExpertSession)
            .where(
                ExpertSession.staff_id == staff_id,
                ExpertSession.facility_id != facility_id,
                ExpertSession.date >= start,
                ExpertSession.date <= planned_end,
                ExpertSession.status.in_(lookup.HOLDING),
            )
            .order_by(ExpertSession.date)
        ).all()
        for session in away:
            slot = Slot(session.date, HalfDay(session.half_day))
            problems.append(
                Violation(
                    Rule.STATIONED_ELSEWHERE,
                    f"{staff.display_name} has session {session.session_id} at "
                    f"{session.facility_id} on {slot}, during the stationing at {host.name}",
                    slot,
                    session.session_id,
                )
            )
        if problems:
            raise uow.refuse(problems)
        now = uow.now()
        row = Stationing(
            stationing_id=lookup.new_id("STN"),
            staff_id=staff_id,
            facility_id=host.facility_id,
            start_date=start,
            planned_end_date=planned_end,
            started_at=now,
        )
        uow.session.add(row)
        uow.publish(
            StationingStarted(
                stationing_id=row.stationing_id,
                staff_id=staff_id,
                home_facility_id=staff.home_facility_id,
                facility_id=host.facility_id,
                start_date=start,
                planned_end_date=planned_end,
                started_at=now,
            )
        )
        uow.commit()
        return row


def finish(uow: StaffingUnitOfWork, row: Stationing, end: date) -> None:
    """End a stationing inside the caller's unit of work and announce it."""
    now = uow.now()
    row.end_date, row.ended_at = end, now
    uow.publish(
        StationingEnded(
            stationing_id=row.stationing_id,
            staff_id=row.staff_id,
            facility_id=row.facility_id,
            end_date=end,
            ended_at=now,
        )
    )


def end_stationing(uow: StaffingUnitOfWork, stationing_id: str, end: date) -> Stationing:
    """The stationing ends on ``end`` (its last day), early or as planned."""
    with uow:
        row = uow.session.get(Stationing, stationing_id)
        if row is None:
            raise NotFound("not_found", f"stationing {stationing_id} does not exist")
        if row.end_date is not None:
            raise Conflict(
                "already_ended", f"stationing {stationing_id} ended on {row.end_date.isoformat()}"
            )
        if end < row.start_date:
            raise Invalid("invalid_period", "a stationing ends on or after the day it starts")
        finish(uow, row, end)
        uow.commit()
        return row
