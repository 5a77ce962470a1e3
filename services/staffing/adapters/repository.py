"""The staffing records the use cases read and write, behind one small interface.

:class:`SqlWorkforce` keeps them in the service's database; unit tests stand an in-memory
one in its place (``tests/unit/staffing``), so a use case runs without one.
"""

from __future__ import annotations

from datetime import date
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from libs.events.catalogue.values import HalfDay
from services.staffing.adapters.schema import (
    ExpertSession,
    Facility,
    Leave,
    StaffBooking,
    StaffMember,
    Stationing,
)
from services.staffing.domain.calendar import Slot
from services.staffing.domain.rules import Absence, Booking, Diary, Stationed
from services.staffing.domain.sessions import HOLDING

__all__ = ["SqlWorkforce", "Workforce"]


class Workforce(Protocol):
    def staff_member(self, staff_id: str) -> StaffMember | None:
        """The registry record of ``staff_id``."""
        ...

    def facility(self, facility_id: str) -> Facility | None:
        """A facility of the county's organisation (active or not)."""
        ...

    def diary(self, staff: StaffMember, first: date, last: date) -> Diary:
        """What ``staff`` is committed to between ``first`` and ``last``."""
        ...

    def held_sessions(self, staff_id: str, first: date, last: date) -> list[ExpertSession]:
        """The person's sessions holding a half-day from ``first`` to ``last``, in time order."""
        ...

    def add(self, record: Stationing | Leave) -> None:
        """Keep a new stationing or leave record in the caller's transaction."""
        ...


class SqlWorkforce:
    """The staffing records in the database, in the session's transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def staff_member(self, staff_id: str) -> StaffMember | None:
        return self.session.get(StaffMember, staff_id)

    def facility(self, facility_id: str) -> Facility | None:
        return self.session.get(Facility, facility_id)

    def held_sessions(self, staff_id: str, first: date, last: date) -> list[ExpertSession]:
        return list(
            self.session.scalars(
                select(ExpertSession)
                .where(
                    ExpertSession.staff_id == staff_id,
                    ExpertSession.date >= first,
                    ExpertSession.date <= last,
                    ExpertSession.status.in_(HOLDING),
                )
                .order_by(ExpertSession.date, ExpertSession.half_day)
            )
        )

    def add(self, record: Stationing | Leave) -> None:
        self.session.add(record)

    def diary(self, staff: StaffMember, first: date, last: date) -> Diary:
        session = self.session
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
