"""Use cases of the staff registry: people, positions, the seed list; each one unit of work."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import structlog
from sqlalchemy import select

from libs.events.catalogue.staffing import (
    StaffDeactivated,
    StaffRegistered,
    StaffSnapshot,
    StaffUpdated,
    TimetableChange,
)
from libs.events.catalogue.values import HalfDay
from services.staffing.adapters.schema import (
    ExpertSession,
    Facility,
    Position,
    StaffMember,
    Stationing,
)
from services.staffing.domain.calendar import Slot
from services.staffing.domain.registry import PositionSpec, StaffSeed, changed_staff
from services.staffing.domain.rules import Rule, Violation
from services.staffing.domain.sessions import SessionStatus
from services.staffing.service_layer import lookup
from services.staffing.service_layer.errors import Conflict, Invalid, UnknownReference
from services.staffing.service_layer.planning import withdraw_session
from services.staffing.service_layer.stationing import finish
from services.staffing.service_layer.timetable import announce
from services.staffing.service_layer.unit_of_work import StaffingUnitOfWork

__all__ = [
    "Deactivation",
    "SeedLoad",
    "create_position",
    "deactivate_staff",
    "holder",
    "register_staff",
    "sync_staff_seed",
    "update_staff",
    "vacant",
]

log = structlog.get_logger("staffing.registry")

#: What residents see of a person on the timetable: a change to it is announced.
_PUBLIC_FIELDS = ("display_name", "title", "specialty")


@dataclass
class Deactivation:
    staff: StaffMember
    cancelled: list[ExpertSession]
    ended: list[Stationing]


def holder(uow: StaffingUnitOfWork, position_id: str, other_than: str = "") -> StaffMember | None:
    """The active member of staff holding the position (other than ``other_than``), if any."""
    today = uow.today()
    return uow.session.scalars(
        select(StaffMember).where(
            StaffMember.position_id == position_id,
            StaffMember.staff_id != other_than,
            StaffMember.deactivated_at.is_(None),
            (StaffMember.active_until.is_(None)) | (StaffMember.active_until >= today),
        )
    ).first()


def vacant(uow: StaffingUnitOfWork, position_id: str) -> bool:
    """Whether no active member of staff holds the position."""
    return holder(uow, position_id) is None


def _check(uow: StaffingUnitOfWork, snapshot: StaffSnapshot, position_id: str | None) -> None:
    home = uow.session.get(Facility, snapshot.home_facility_id)
    if home is None or not home.active:
        raise UnknownReference(
            "unknown_facility", f"facility {snapshot.home_facility_id} does not exist"
        )
    departments = {d["department_id"] for d in home.departments}
    if snapshot.department_id is not None and snapshot.department_id not in departments:
        raise UnknownReference(
            "unknown_department",
            f"department {snapshot.department_id} is not a department of {home.name}",
        )
    if snapshot.active_until is not None and snapshot.active_until < snapshot.active_from:
        raise Invalid("invalid_period", "the active period ends on or after the day it starts")
    if position_id is None:
        return
    position = uow.session.get(Position, position_id)
    if position is None:
        raise UnknownReference("unknown_position", f"position {position_id} does not exist")
    if position.facility_id != snapshot.home_facility_id:
        raise Invalid("position_elsewhere", f"position {position_id} is at {position.facility_id}")
    held_by = holder(uow, position_id, other_than=snapshot.staff_id)
    if held_by is not None:
        raise Conflict("position_filled", f"position {position_id} is held by {held_by.staff_id}")


def _write(
    row: StaffMember, snapshot: StaffSnapshot, position_id: str | None, now: datetime
) -> None:
    row.display_name = snapshot.display_name
    row.home_facility_id = snapshot.home_facility_id
    row.department_id = snapshot.department_id
    row.title = snapshot.title.value
    row.specialty = snapshot.specialty
    row.active_from = snapshot.active_from
    row.active_until = snapshot.active_until
    row.position_id = position_id
    row.updated_at = now


def register_staff(
    uow: StaffingUnitOfWork, snapshot: StaffSnapshot, position_id: str | None = None
) -> StaffMember:
    """A person joins the registry, announced in the same transaction."""
    with uow:
        if uow.session.get(StaffMember, snapshot.staff_id) is not None:
            raise Conflict("already_registered", f"staff member {snapshot.staff_id} exists")
        _check(uow, snapshot, position_id)
        row = StaffMember(staff_id=snapshot.staff_id, seeded=False)
        _write(row, snapshot, position_id, uow.now())
        uow.session.add(row)
        uow.publish(StaffRegistered(**snapshot.model_dump()))
        uow.commit()
        return row


def update_staff(
    uow: StaffingUnitOfWork, snapshot: StaffSnapshot, position_id: str | None = None
) -> StaffMember:
    """Change a record. Planned sessions must still fit the person (active period, home
    facility); a change residents see is announced on every published timetable entry."""
    with uow:
        row = lookup.staff_member(uow, snapshot.staff_id)
        if row.deactivated_at is not None:
            raise Conflict("deactivated", f"staff member {row.staff_id} has been deactivated")
        _check(uow, snapshot, position_id)
        before = lookup.snapshot(row)
        upcoming = uow.session.scalars(
            select(ExpertSession)
            .where(
                ExpertSession.staff_id == row.staff_id,
                ExpertSession.status == SessionStatus.PLANNED.value,
                ExpertSession.date >= uow.today(),
            )
            .order_by(ExpertSession.date, ExpertSession.half_day)
        ).all()
        problems = []
        for session in upcoming:
            slot = Slot(session.date, HalfDay(session.half_day))
            if session.date < snapshot.active_from or (
                snapshot.active_until is not None and session.date > snapshot.active_until
            ):
                problems.append(
                    Violation(
                        Rule.STAFF_NOT_ACTIVE,
                        f"session {session.session_id} on {slot} falls outside the new active "
                        "period; cancel it first",
                        slot,
                        session.session_id,
                    )
                )
            if session.facility_id == snapshot.home_facility_id:
                problems.append(
                    Violation(
                        Rule.HOME_FACILITY,
                        f"session {session.session_id} on {slot} is at the new home facility",
                        slot,
                        session.session_id,
                    )
                )
        if problems:
            raise uow.refuse(problems)
        _write(row, snapshot, position_id, uow.now())
        row.seeded = False
        for session in upcoming:
            session.home_facility_id = snapshot.home_facility_id
        uow.publish(StaffUpdated(**snapshot.model_dump()))
        if any(getattr(before, f) != getattr(snapshot, f) for f in _PUBLIC_FIELDS):
            for session in upcoming:
                announce(uow, session, row, TimetableChange.CHANGED, "staff_updated")
        uow.commit()
        return row


def deactivate_staff(uow: StaffingUnitOfWork, staff_id: str, active_until: date) -> Deactivation:
    """A person leaves after ``active_until``: later planned sessions are cancelled, a
    stationing running past it ends, their position falls vacant; history stays."""
    with uow:
        row = lookup.staff_member(uow, staff_id)
        if row.deactivated_at is not None:
            raise Conflict("already_deactivated", f"staff member {staff_id} was deactivated")
        if active_until < row.active_from:
            raise Invalid("invalid_period", "a person leaves on or after the day they started")
        cancelled = uow.session.scalars(
            select(ExpertSession)
            .where(
                ExpertSession.staff_id == staff_id,
                ExpertSession.status == SessionStatus.PLANNED.value,
                ExpertSession.date > active_until,
                ExpertSession.date >= uow.today(),  # the past stays as it was
            )
            .order_by(ExpertSession.date, ExpertSession.half_day)
        ).all()
        for session in cancelled:
            withdraw_session(uow, session, row, "staff_left")
        running = uow.session.scalars(
            select(Stationing).where(
                Stationing.staff_id == staff_id,
                Stationing.end_date.is_(None),
                Stationing.planned_end_date > active_until,
            )
        ).all()
        for stationing in running:
            finish(uow, stationing, max(active_until, stationing.start_date))
        now = uow.now()
        row.active_until, row.deactivated_at, row.updated_at = active_until, now, now
        row.seeded = False
        uow.publish(
            StaffDeactivated(staff_id=staff_id, active_until=active_until, deactivated_at=now)
        )
        uow.commit()
        return Deactivation(row, list(cancelled), list(running))


def create_position(uow: StaffingUnitOfWork, spec: PositionSpec) -> Position:
    """Add a post to a facility's establishment (vacant until someone holds it)."""
    with uow:
        if uow.session.get(Position, spec.position_id) is not None:
            raise Conflict("already_exists", f"position {spec.position_id} exists")
        lookup.facility(uow, spec.facility_id)
        row = Position(**spec.model_dump(mode="json"), created_at=uow.now())
        uow.session.add(row)
        uow.commit()
        return row


@dataclass(frozen=True)
class SeedLoad:
    """What one load of the seed list did, and what still waits for its facility."""

    announced: list[str]
    """Staff ids registered or updated (announced) by this load."""
    waiting: list[str]
    """Seed positions and people whose facility staffing does not know yet: loaded by a later
    run, once the administration's events brought the facility."""


def sync_staff_seed(uow: StaffingUnitOfWork, seed: StaffSeed) -> SeedLoad:
    """Register the seed list's positions and people that are new, and update people the
    seed still owns (never changed through the API); running it again announces nothing.

    The facilities come from the administration's events, which may not have arrived yet when
    staffing starts: positions and people of a facility staffing does not know are left for
    a later run (``waiting``) instead of failing the whole load.
    """
    with uow:
        facilities = set(uow.session.scalars(select(Facility.facility_id)))
        waiting = []
        for position in seed.positions:
            if position.facility_id not in facilities:
                waiting.append(position.position_id)
            elif uow.session.get(Position, position.position_id) is None:
                uow.session.add(Position(**position.model_dump(mode="json"), created_at=uow.now()))
        rows = {r.staff_id: r for r in uow.session.scalars(select(StaffMember))}
        published = {sid: lookup.snapshot(r) for sid, r in rows.items() if r.seeded}
        desired = [s for s in seed.staff if s.staff_id not in rows or rows[s.staff_id].seeded]
        announced = []
        for snapshot, new in changed_staff(published, desired):
            if snapshot.home_facility_id not in facilities:
                waiting.append(snapshot.staff_id)
                continue
            row = rows.get(snapshot.staff_id) or StaffMember(staff_id=snapshot.staff_id)
            _write(row, snapshot, seed.holders.get(snapshot.staff_id), uow.now())
            row.seeded = True
            uow.session.add(row)
            payload = StaffRegistered if new else StaffUpdated
            uow.publish(payload(**snapshot.model_dump()))
            announced.append(snapshot.staff_id)
        uow.commit()
        if announced:
            log.info("seed staff announced", count=len(announced))
        if waiting:
            log.info("seed staff waiting for their facility", count=len(waiting))
        return SeedLoad(announced, waiting)
