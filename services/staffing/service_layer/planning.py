"""Planning sessions: one at a time or as a recurring weekly pattern, and cancelling them.

Every change is checked against the hard rules (:mod:`services.staffing.domain.rules`) and
refused whole, with every violation, if it breaks one. Planned sessions are announced
(``staffing.session.planned``); in a published week the timetable change is announced too.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from libs.events.catalogue.staffing import SessionCancelled, SessionPlanned, TimetableChange
from libs.events.catalogue.values import HalfDay
from services.staffing.adapters.schema import (
    ExpertSession,
    Facility,
    Rotation,
    StaffBooking,
    StaffMember,
)
from services.staffing.domain.calendar import Slot, week_start
from services.staffing.domain.rotations import RotationPattern
from services.staffing.domain.rotations import plan_rotation as expand
from services.staffing.domain.rules import Absence, Rule, Violation
from services.staffing.domain.sessions import Action, SessionStatus, TransitionRefused, transition
from services.staffing.domain.timetable import editing_closed
from services.staffing.service_layer import lookup
from services.staffing.service_layer.errors import Conflict, Invalid, NotFound
from services.staffing.service_layer.timetable import announce, is_published
from services.staffing.service_layer.unit_of_work import StaffingUnitOfWork

__all__ = [
    "RotationResult",
    "cancel_rotation",
    "cancel_session",
    "editable",
    "plan_rotation",
    "plan_session",
    "withdraw_session",
]


@dataclass
class RotationResult:
    rotation: Rotation
    sessions: list[ExpertSession]
    skipped: list[tuple[Slot, Absence]] = field(default_factory=list)


def editable(uow: StaffingUnitOfWork, day: date, slot: Slot | None = None) -> list[Violation]:
    """Why a session on ``day`` can no longer be planned or cancelled (empty if it can)."""
    return editing_closed(day, today=uow.today(), slot=slot)


def _book(
    uow: StaffingUnitOfWork,
    staff: StaffMember,
    host: Facility,
    slot: Slot,
    session_id: str,
    rotation_id: str | None = None,
) -> ExpertSession:
    """Create one session (its rules already checked) and announce it."""
    now = uow.now()
    row = ExpertSession(
        session_id=session_id,
        staff_id=staff.staff_id,
        home_facility_id=staff.home_facility_id,
        facility_id=host.facility_id,
        date=slot.date,
        half_day=slot.half_day.value,
        week_start=week_start(slot.date),
        rotation_id=rotation_id,
        status=SessionStatus.PLANNED.value,
        planned_at=now,
        cancellation_announced=False,
    )
    uow.session.add(row)
    uow.session.add(
        StaffBooking(
            staff_id=staff.staff_id,
            date=slot.date,
            half_day=slot.half_day.value,
            session_id=session_id,
        )
    )
    uow.publish(
        SessionPlanned(
            session_id=session_id,
            staff_id=staff.staff_id,
            home_facility_id=staff.home_facility_id,
            facility_id=host.facility_id,
            date=slot.date,
            half_day=slot.half_day,
            rotation_id=rotation_id,
            planned_at=now,
        )
    )
    announce(uow, row, staff, TimetableChange.ADDED)
    return row


@contextmanager
def _bookings_guard(
    uow: StaffingUnitOfWork, staff: StaffMember, slots: list[Slot]
) -> Iterator[None]:
    """Write the bookings made in the block: a concurrent request that booked one of these
    half-days first makes the primary key refuse ours (whenever the session flushes)."""
    try:
        yield
        uow.session.flush()
    except IntegrityError:
        raise uow.refuse(
            [
                Violation(
                    Rule.DOUBLE_BOOKING,
                    f"{staff.display_name} was booked for one of these half-days by a "
                    "concurrent change; look again and retry",
                    slots[0] if len(slots) == 1 else None,
                )
            ]
        ) from None


def _rotation_session_id(rotation_id: str, slot: Slot) -> str:
    """Sessions of a pattern are named by it: ``ROT-…-20261201-AM``."""
    half = "AM" if slot.half_day is HalfDay.MORNING else "PM"
    return f"{rotation_id}-{slot.date:%Y%m%d}-{half}"


def plan_session(
    uow: StaffingUnitOfWork, *, staff_id: str, facility_id: str, day: date, half_day: HalfDay
) -> ExpertSession:
    """Plan one half-day session of a person at a member facility."""
    slot = Slot(day, half_day)
    with uow:
        staff = lookup.staff_member(uow, staff_id)
        host, problems = lookup.host_facility(uow, facility_id, staff)
        problems += editable(uow, day, slot)
        problems += lookup.diary(uow, staff, day, day).check(slot, host.facility_id, host.name)
        if problems:
            raise uow.refuse(problems)
        with _bookings_guard(uow, staff, [slot]):
            row = _book(uow, staff, host, slot, lookup.new_id("SES"))
        uow.commit()
        return row


def plan_rotation(
    uow: StaffingUnitOfWork, *, staff_id: str, facility_id: str, pattern: RotationPattern
) -> RotationResult:
    """Plan a recurring weekly pattern: every occurrence becomes a session, except the
    half-days the person is on leave; any other violation refuses the whole pattern."""
    if pattern.days > uow.policy.max_rotation_days:
        raise Invalid(
            "period_too_long",
            f"a pattern covers at most {uow.policy.max_rotation_days} days; plan the rest later",
        )
    with uow:
        staff = lookup.staff_member(uow, staff_id)
        host, problems = lookup.host_facility(uow, facility_id, staff)
        problems += editable(uow, pattern.start)
        diary = lookup.diary(uow, staff, pattern.start, pattern.end)
        plan = expand(pattern, diary, host.facility_id, host.name)
        problems += plan.violations
        if problems:
            raise uow.refuse(problems)
        if not plan.sessions:
            raise Invalid(
                "no_sessions",
                "the pattern has no half-day in its period that the person is available for",
            )
        rotation = Rotation(
            rotation_id=lookup.new_id("ROT"),
            staff_id=staff.staff_id,
            facility_id=host.facility_id,
            slots=sorted(
                ({"weekday": s.weekday.value, "half_day": s.half_day.value} for s in pattern.slots),
                key=lambda s: (s["weekday"], s["half_day"]),
            ),
            start_date=pattern.start,
            end_date=pattern.end,
            created_at=uow.now(),
        )
        uow.session.add(rotation)
        with _bookings_guard(uow, staff, plan.sessions):
            sessions = [
                _book(
                    uow,
                    staff,
                    host,
                    slot,
                    _rotation_session_id(rotation.rotation_id, slot),
                    rotation.rotation_id,
                )
                for slot in plan.sessions
            ]
        uow.commit()
        return RotationResult(rotation, sessions, plan.skipped)


def withdraw_session(
    uow: StaffingUnitOfWork, row: ExpertSession, staff: StaffMember, reason: str
) -> None:
    """Cancel a planned session inside the caller's unit of work (rules already checked):
    free the half-day and announce it."""
    row.status = transition(
        SessionStatus(row.status), Action.CANCEL, session_date=row.date, today=uow.today()
    ).value
    now = uow.now()
    row.cancelled_at, row.cancel_reason = now, reason
    row.cancellation_announced = is_published(uow, row.week_start)
    booking = uow.session.get(StaffBooking, (row.staff_id, row.date, row.half_day))
    if booking is not None and booking.session_id == row.session_id:
        uow.session.delete(booking)
    uow.publish(
        SessionCancelled(
            session_id=row.session_id,
            staff_id=row.staff_id,
            home_facility_id=row.home_facility_id,
            facility_id=row.facility_id,
            date=row.date,
            half_day=HalfDay(row.half_day),
            reason=reason,
            cancelled_at=now,
        )
    )
    announce(uow, row, staff, TimetableChange.CANCELLED, reason)


def cancel_session(uow: StaffingUnitOfWork, session_id: str, reason: str) -> ExpertSession:
    """Cancel one planned session (not one in a closed week or already held)."""
    with uow:
        row = uow.session.get(ExpertSession, session_id)
        if row is None:
            raise NotFound("not_found", f"session {session_id} does not exist")
        problems = editable(uow, row.date, Slot(row.date, HalfDay(row.half_day)))
        if problems:
            raise uow.refuse(problems)
        try:
            withdraw_session(uow, row, lookup.staff_member(uow, row.staff_id), reason)
        except TransitionRefused as exc:
            raise Conflict(exc.code, f"session {session_id}: {exc.message}") from None
        uow.commit()
        return row


def cancel_rotation(
    uow: StaffingUnitOfWork, rotation_id: str, *, from_date: date | None, reason: str
) -> list[ExpertSession]:
    """Stop a pattern: its planned sessions from ``from_date`` (default today) are cancelled;
    sessions already held or in the past stay on record."""
    with uow:
        rotation = uow.session.get(Rotation, rotation_id)
        if rotation is None:
            raise NotFound("not_found", f"rotation {rotation_id} does not exist")
        first = max(from_date or uow.today(), uow.today())
        rows = uow.session.scalars(
            select(ExpertSession)
            .where(
                ExpertSession.rotation_id == rotation_id,
                ExpertSession.status == SessionStatus.PLANNED.value,
                ExpertSession.date >= first,
            )
            .order_by(ExpertSession.date, ExpertSession.half_day)
        ).all()
        staff = lookup.staff_member(uow, rotation.staff_id)
        for row in rows:
            withdraw_session(uow, row, staff, reason)
        rotation.cancelled_from = (
            first if rotation.cancelled_from is None else min(first, rotation.cancelled_from)
        )
        uow.commit()
        return list(rows)
