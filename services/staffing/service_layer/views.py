"""Read models: a facility's week as the timetable shows it, and session lists."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select

from libs.events.catalogue.values import HalfDay, StaffTitle
from services.staffing.adapters.schema import ExpertSession, Facility, PublishedWeek, StaffMember
from services.staffing.domain.calendar import HALF_DAY_ORDER
from services.staffing.domain.registry import TITLE_LABELS
from services.staffing.domain.sessions import SessionStatus
from services.staffing.domain.timetable import WeekStatus, week_status
from services.staffing.service_layer.errors import NotFound
from services.staffing.service_layer.lookup import aware
from services.staffing.service_layer.unit_of_work import StaffingUnitOfWork

__all__ = [
    "FacilityWeek",
    "SessionFilter",
    "TimetableRow",
    "facility_week",
    "list_sessions",
    "published_weeks",
    "session_view",
]


@dataclass(frozen=True)
class TimetableRow:
    session_id: str
    staff_id: str
    display_name: str
    title: StaffTitle
    title_label: str
    specialty: str
    specialty_label: str
    date: date
    half_day: HalfDay
    half_day_label: str
    starts_at: time
    ends_at: time
    status: SessionStatus
    revision: int

    @property
    def cancelled(self) -> bool:
        return self.status is SessionStatus.CANCELLED


@dataclass(frozen=True)
class FacilityWeek:
    facility_id: str
    facility_name: str
    week_start: date
    status: WeekStatus
    published_at: datetime | None
    rows: list[TimetableRow]

    @property
    def week_end(self) -> date:
        return self.week_start + timedelta(days=6)


def _departments(uow: StaffingUnitOfWork) -> dict[str, str]:
    names = {}
    for departments in uow.session.scalars(select(Facility.departments)):
        for department in departments:
            names[department["department_id"]] = department["name"]
    return names


def _row(
    uow: StaffingUnitOfWork, session: ExpertSession, staff: StaffMember, departments: dict[str, str]
) -> TimetableRow:
    half = HalfDay(session.half_day)
    times = uow.policy.times(half)
    title = StaffTitle(staff.title)
    return TimetableRow(
        session_id=session.session_id,
        staff_id=staff.staff_id,
        display_name=staff.display_name,
        title=title,
        title_label=TITLE_LABELS[title],
        specialty=staff.specialty,
        specialty_label=departments.get(staff.department_id or "", staff.specialty),
        date=session.date,
        half_day=half,
        half_day_label=times.label,
        starts_at=times.start,
        ends_at=times.end,
        status=SessionStatus(session.status),
        revision=session.version,
    )


def facility_week(
    uow: StaffingUnitOfWork, facility_id: str, monday: date, *, public: bool
) -> FacilityWeek:
    """The week at one facility (open uow). ``public``: only a published week, and only what
    was announced (sessions cancelled before publication were never shown)."""
    facility = uow.session.get(Facility, facility_id)
    if facility is None:
        raise NotFound("not_found", f"facility {facility_id} does not exist")
    published = uow.session.get(PublishedWeek, monday)
    if public and published is None:
        raise NotFound("not_published", f"the week of {monday.isoformat()} is not published")
    departments = _departments(uow)
    rows = []
    for session, staff in uow.session.execute(
        select(ExpertSession, StaffMember)
        .join(StaffMember, StaffMember.staff_id == ExpertSession.staff_id)
        .where(ExpertSession.week_start == monday, ExpertSession.facility_id == facility_id)
    ).tuples():
        cancelled = session.status == SessionStatus.CANCELLED.value
        if public and cancelled and not session.cancellation_announced:
            continue  # cancelled before the week was published: residents never saw it
        rows.append(_row(uow, session, staff, departments))
    rows.sort(key=lambda r: (r.date, HALF_DAY_ORDER[r.half_day], r.display_name, r.session_id))
    return FacilityWeek(
        facility_id=facility.facility_id,
        facility_name=facility.name,
        week_start=monday,
        status=week_status(monday, published=published is not None, today=uow.today()),
        published_at=aware(published.published_at) if published else None,
        rows=rows,
    )


def published_weeks(uow: StaffingUnitOfWork, since: date) -> list[date]:
    """Mondays of the published weeks from ``since`` on (open uow)."""
    return list(
        uow.session.scalars(
            select(PublishedWeek.week_start)
            .where(PublishedWeek.week_start >= since)
            .order_by(PublishedWeek.week_start)
        )
    )


@dataclass(frozen=True)
class SessionFilter:
    staff_id: str | None = None
    facility_id: str | None = None
    week_start: date | None = None
    status: SessionStatus | None = None
    rotation_id: str | None = None


def session_view(row: ExpertSession) -> dict[str, Any]:
    """A session as the admin API shows it."""
    return {
        "session_id": row.session_id,
        "staff_id": row.staff_id,
        "home_facility_id": row.home_facility_id,
        "facility_id": row.facility_id,
        "date": row.date.isoformat(),
        "half_day": row.half_day,
        "week_start": row.week_start.isoformat(),
        "rotation_id": row.rotation_id,
        "status": row.status,
        "cancel_reason": row.cancel_reason,
        "checked_in_at": aware(row.checked_in_at).isoformat() if row.checked_in_at else None,
        "checked_out_at": aware(row.checked_out_at).isoformat() if row.checked_out_at else None,
        "patients_seen": row.patients_seen,
        "home_visits": row.home_visits,
    }


def list_sessions(
    uow: StaffingUnitOfWork, wanted: SessionFilter, *, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    """One page of sessions matching ``wanted``, in time order, and how many match."""
    conditions = []
    if wanted.staff_id:
        conditions.append(ExpertSession.staff_id == wanted.staff_id)
    if wanted.facility_id:
        conditions.append(ExpertSession.facility_id == wanted.facility_id)
    if wanted.week_start:
        conditions.append(ExpertSession.week_start == wanted.week_start)
    if wanted.status:
        conditions.append(ExpertSession.status == wanted.status.value)
    if wanted.rotation_id:
        conditions.append(ExpertSession.rotation_id == wanted.rotation_id)
    with uow:
        total = uow.session.scalar(
            select(func.count()).select_from(ExpertSession).where(*conditions)
        )
        rows = uow.session.scalars(
            select(ExpertSession)
            .where(*conditions)
            # "morning" sorts after "afternoon": descending puts mornings first.
            .order_by(ExpertSession.date, ExpertSession.half_day.desc(), ExpertSession.session_id)
            .limit(limit)
            .offset(offset)
        )
        return [session_view(r) for r in rows], int(total or 0)
