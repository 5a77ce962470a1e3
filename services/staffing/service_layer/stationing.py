"""Stationing (派驻): a lead-hospital physician based at a member facility for months.

The number of stationed physicians is a national monitoring indicator, announced with
``staffing.stationing.started``/``ended``. A stationed physician works at the member: no
session elsewhere during the stationing, and no two stationings of one person at once.
"""

from __future__ import annotations

from datetime import date

from libs.events.catalogue.staffing import StationingEnded, StationingStarted
from libs.events.catalogue.values import FacilityType, StaffTitle
from services.staffing.adapters.schema import StaffMember, Stationing
from services.staffing.domain.rules import Violation
from services.staffing.domain.stationing import Posting, specialist_violations
from services.staffing.service_layer import lookup
from services.staffing.service_layer.errors import Conflict, Invalid, NotFound
from services.staffing.service_layer.unit_of_work import StaffingUnitOfWork

__all__ = ["end_stationing", "finish", "start_stationing"]


def _eligible(uow: StaffingUnitOfWork, staff: StaffMember) -> list[Violation]:
    home = lookup.facility(uow, staff.home_facility_id)
    return specialist_violations(
        uow.policy.specialists,
        who=staff.display_name,
        title=StaffTitle(staff.title),
        home_type=FacilityType(home.facility_type),
        home_name=home.name,
    )


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
        posting = Posting(host.facility_id, host.name, start, planned_end)
        held = uow.workforce.held_sessions(staff_id, start, planned_end)
        problems += posting.conflicts(
            lookup.diary(uow, staff, start, planned_end), map(lookup.held, held)
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
        uow.workforce.add(row)
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
