"""Reading the records the use cases act on: staff, host facilities, a person's diary."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from sqlalchemy import select

from libs.events.catalogue.staffing import StaffSnapshot
from libs.events.catalogue.values import FacilityType, HalfDay, StaffTitle
from services.staffing.adapters.schema import (
    ExpertSession,
    Facility,
    Leave,
    StaffBooking,
    StaffMember,
    Stationing,
)
from services.staffing.domain.calendar import Slot
from services.staffing.domain.rules import Absence, Booking, Diary, Rule, Stationed, Violation
from services.staffing.domain.sessions import SessionStatus
from services.staffing.service_layer.errors import UnknownReference
from services.staffing.service_layer.unit_of_work import StaffingUnitOfWork

__all__ = [
    "HOLDING",
    "aware",
    "diary",
    "facility",
    "host_facility",
    "new_id",
    "snapshot",
    "staff_member",
]

#: Session states that hold the person's half-day (a missed or cancelled one frees it).
HOLDING = (
    SessionStatus.PLANNED.value,
    SessionStatus.CHECKED_IN.value,
    SessionStatus.DELIVERED.value,
)


def aware(stored: datetime) -> datetime:
    """A stored instant with its zone (SQLite hands back naive datetimes; they are UTC)."""
    return stored.replace(tzinfo=UTC) if stored.tzinfo is None else stored


def new_id(prefix: str) -> str:
    """A fresh identifier such as ``SES-3F2A9C0D1B2E4F60``."""
    return f"{prefix}-{uuid.uuid4().hex[:16].upper()}"


def staff_member(uow: StaffingUnitOfWork, staff_id: str) -> StaffMember:
    """The registry record, or ``unknown_staff``."""
    row = uow.session.get(StaffMember, staff_id)
    if row is None:
        raise UnknownReference("unknown_staff", f"staff member {staff_id} does not exist")
    return row


def facility(uow: StaffingUnitOfWork, facility_id: str) -> Facility:
    row = uow.session.get(Facility, facility_id)
    if row is None or not row.active:
        raise UnknownReference("unknown_facility", f"facility {facility_id} does not exist")
    return row


def host_facility(
    uow: StaffingUnitOfWork, facility_id: str, staff: StaffMember
) -> tuple[Facility, list[Violation]]:
    """The member facility a session of ``staff`` would be held at, and what is wrong with it."""
    row = facility(uow, facility_id)
    problems = []
    if FacilityType(row.facility_type) not in uow.policy.host_facility_types:
        problems.append(
            Violation(
                Rule.NOT_A_HOST_FACILITY,
                f"{row.name} is a {row.facility_type}; sessions are held at "
                + ", ".join(sorted(t.value for t in uow.policy.host_facility_types)),
            )
        )
    if row.facility_id == staff.home_facility_id:
        problems.append(
            Violation(
                Rule.HOME_FACILITY,
                f"{row.name} is {staff.display_name}'s home facility: a session there sends "
                "nobody down",
            )
        )
    return row, problems


def snapshot(row: StaffMember) -> StaffSnapshot:
    """The registry record as the events carry it."""
    return StaffSnapshot(
        staff_id=row.staff_id,
        display_name=row.display_name,
        home_facility_id=row.home_facility_id,
        department_id=row.department_id,
        title=StaffTitle(row.title),
        specialty=row.specialty,
        active_from=row.active_from,
        active_until=row.active_until,
    )


def diary(uow: StaffingUnitOfWork, staff: StaffMember, first: date, last: date) -> Diary:
    """What ``staff`` is committed to between ``first`` and ``last``."""
    session = uow.session
    names = dict(session.execute(select(Facility.facility_id, Facility.name)).tuples().all())
    booked = session.execute(
        select(
            StaffBooking.date,
            StaffBooking.half_day,
            ExpertSession.session_id,
            ExpertSession.facility_id,
        )
        .join(ExpertSession, ExpertSession.session_id == StaffBooking.session_id)
        .where(
            StaffBooking.staff_id == staff.staff_id,
            StaffBooking.date >= first,
            StaffBooking.date <= last,
        )
    ).tuples()
    leave = session.scalars(
        select(Leave).where(
            Leave.staff_id == staff.staff_id,
            Leave.withdrawn_at.is_(None),
            Leave.start_date <= last,
            Leave.end_date >= first,
        )
    )
    postings = session.scalars(
        select(Stationing).where(
            Stationing.staff_id == staff.staff_id, Stationing.start_date <= last
        )
    )
    result = Diary(staff.staff_id, staff.display_name, staff.active_from, staff.active_until)
    for day, half, session_id, facility_id in booked:
        result.book(
            Slot(day, HalfDay(half)),
            Booking(session_id, facility_id, names.get(facility_id, facility_id)),
        )
    result.absences = [
        Absence(
            row.leave_id,
            row.kind,
            row.start_date,
            row.end_date,
            HalfDay(row.half_day) if row.half_day else None,
        )
        for row in leave
    ]
    result.stationings = [
        Stationed(
            row.stationing_id,
            row.facility_id,
            names.get(row.facility_id, row.facility_id),
            row.start_date,
            row.end_date or row.planned_end_date,
        )
        for row in postings
        if (row.end_date or row.planned_end_date) >= first
    ]
    return result
