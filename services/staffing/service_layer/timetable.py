"""Publishing a week, and announcing every later change to a published week."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from libs.events.catalogue.staffing import (
    TimetableChange,
    TimetableChanged,
    TimetableEntry,
    TimetablePublished,
)
from libs.events.catalogue.values import HalfDay, StaffTitle
from services.staffing.adapters.schema import ExpertSession, Facility, PublishedWeek, StaffMember
from services.staffing.domain.calendar import HALF_DAY_ORDER
from services.staffing.domain.policy import StaffingPolicy
from services.staffing.domain.sessions import SessionStatus
from services.staffing.domain.timetable import WeekNotOpen, ensure_publishable
from services.staffing.service_layer.errors import Conflict, Invalid
from services.staffing.service_layer.unit_of_work import StaffingUnitOfWork

__all__ = ["MAX_ENTRIES", "Publication", "announce", "entry", "is_published", "publish_week"]

#: The most sessions one facility-week can announce (the event's limit).
MAX_ENTRIES = 500


@dataclass(frozen=True)
class Publication:
    week_start: date
    published_at: datetime
    facilities: int
    sessions: int


def entry(policy: StaffingPolicy, session: ExpertSession, staff: StaffMember) -> TimetableEntry:
    """A session as residents and other services see it on the timetable."""
    half = HalfDay(session.half_day)
    times = policy.times(half)
    return TimetableEntry(
        session_id=session.session_id,
        staff_id=staff.staff_id,
        display_name=staff.display_name,
        title=StaffTitle(staff.title),
        specialty=staff.specialty,
        date=session.date,
        half_day=half,
        starts_at=times.start,
        ends_at=times.end,
    )


def is_published(uow: StaffingUnitOfWork, monday: date) -> bool:
    return uow.session.get(PublishedWeek, monday) is not None


def announce(
    uow: StaffingUnitOfWork,
    session: ExpertSession,
    staff: StaffMember,
    change: TimetableChange,
    reason: str | None = None,
) -> None:
    """Tell residents and other services that a published week changed (nothing for a
    draft week: it is announced whole when it is published)."""
    if not is_published(uow, session.week_start):
        return
    uow.publish(
        TimetableChanged(
            facility_id=session.facility_id,
            week_start=session.week_start,
            change=change,
            entry=entry(uow.policy, session, staff),
            reason=reason,
            changed_at=uow.now(),
        )
    )


def publish_week(uow: StaffingUnitOfWork, monday: date, published_by: str) -> Publication:
    """Freeze the week and announce it: one event per host facility, sessions or none (an
    empty timetable tells residents no expert comes that week)."""
    with uow:
        try:
            ensure_publishable(monday, published=is_published(uow, monday), today=uow.today())
        except WeekNotOpen as exc:
            error = Invalid if exc.code == "not_a_monday" else Conflict
            raise error(exc.code, exc.message) from None
        now = uow.now()
        uow.session.add(
            PublishedWeek(week_start=monday, published_at=now, published_by=published_by)
        )
        try:
            uow.session.flush()
        except IntegrityError:
            raise Conflict(
                "week_already_published", f"the week of {monday.isoformat()} was just published"
            ) from None
        rows = uow.session.execute(
            select(ExpertSession, StaffMember)
            .join(StaffMember, StaffMember.staff_id == ExpertSession.staff_id)
            .where(
                ExpertSession.week_start == monday,
                ExpertSession.status != SessionStatus.CANCELLED.value,
            )
        ).tuples()
        by_facility: dict[str, list[TimetableEntry]] = defaultdict(list)
        for session, staff in rows:
            by_facility[session.facility_id].append(entry(uow.policy, session, staff))
        hosts = uow.session.scalars(
            select(Facility.facility_id).where(
                Facility.active.is_(True),
                Facility.facility_type.in_([t.value for t in uow.policy.host_facility_types]),
            )
        ).all()
        facility_ids = sorted(set(hosts) | set(by_facility))
        for facility_id in facility_ids:
            entries = sorted(
                by_facility.get(facility_id, []),
                key=lambda e: (e.date, HALF_DAY_ORDER[e.half_day], e.display_name, e.session_id),
            )
            if len(entries) > MAX_ENTRIES:
                raise Conflict(
                    "too_many_sessions",
                    f"{facility_id} has {len(entries)} sessions in the week; at most "
                    f"{MAX_ENTRIES} can be published",
                )
            uow.publish(
                TimetablePublished(
                    facility_id=facility_id, week_start=monday, entries=entries, published_at=now
                )
            )
        uow.commit()
        return Publication(
            monday, now, len(facility_ids), sum(len(v) for v in by_facility.values())
        )
