"""Leave and declared unavailability: recorded, checked against sessions, withdrawn.

No session may fall during leave. Recording leave over sessions already planned is refused
with those sessions listed, unless the request asks to cancel them (sick leave), in which
case they are cancelled and announced in the same transaction. Sessions already held (or
checked in) during the leave are a contradiction and always refuse it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from sqlalchemy import select

from libs.events.catalogue.values import HalfDay
from services.staffing.adapters.schema import ExpertSession, Leave
from services.staffing.domain.calendar import Slot
from services.staffing.domain.rules import Absence, Rule, Violation
from services.staffing.domain.sessions import SessionStatus
from services.staffing.service_layer import lookup
from services.staffing.service_layer.errors import Conflict, Invalid, NotFound
from services.staffing.service_layer.planning import editable, withdraw_session
from services.staffing.service_layer.unit_of_work import StaffingUnitOfWork

__all__ = ["LeaveKind", "LeaveResult", "record_leave", "withdraw_leave"]

#: The longest single leave record (a longer absence is recorded in parts, or the person
#: is deactivated).
MAX_LEAVE_DAYS = 366


class LeaveKind(StrEnum):
    ANNUAL = "annual"  # 年假
    SICK = "sick"  # 病假
    TRAINING = "training"  # 进修/培训
    PERSONAL = "personal"  # 事假
    UNAVAILABLE = "unavailable"  # other commitments: a meeting, on call at home


@dataclass
class LeaveResult:
    leave: Leave
    cancelled: list[ExpertSession]


def record_leave(
    uow: StaffingUnitOfWork,
    *,
    staff_id: str,
    kind: LeaveKind,
    start: date,
    end: date,
    half_day: HalfDay | None = None,
    cancel_sessions: bool = False,
) -> LeaveResult:
    """Record leave; refuse it over sessions unless ``cancel_sessions`` (planned ones only)."""
    if end < start:
        raise Invalid("invalid_period", "leave ends on or after the day it starts")
    if (end - start).days + 1 > MAX_LEAVE_DAYS:
        raise Invalid("period_too_long", f"one leave record covers at most {MAX_LEAVE_DAYS} days")
    absence = Absence("new", kind.value, start, end, half_day)
    with uow:
        staff = lookup.staff_member(uow, staff_id)
        clashes = uow.session.scalars(
            select(ExpertSession)
            .where(
                ExpertSession.staff_id == staff_id,
                ExpertSession.date >= start,
                ExpertSession.date <= end,
                ExpertSession.status.in_(lookup.HOLDING),
            )
            .order_by(ExpertSession.date, ExpertSession.half_day)
        ).all()
        clashes = [s for s in clashes if absence.covers(Slot(s.date, HalfDay(s.half_day)))]
        problems = []
        to_cancel = []
        for row in clashes:
            slot = Slot(row.date, HalfDay(row.half_day))
            held = row.status != SessionStatus.PLANNED.value
            blocked = editable(uow, row.date, slot) if cancel_sessions and not held else []
            if not cancel_sessions or held or blocked:
                problems.append(
                    Violation(
                        Rule.ON_LEAVE,
                        f"{staff.display_name} has session {row.session_id} ({row.status}) on "
                        f"{slot}, during the leave"
                        + ("; cancel it first or ask to cancel sessions" if not held else ""),
                        slot,
                        row.session_id,
                    )
                )
                problems += blocked
            else:
                to_cancel.append(row)
        if problems:
            raise uow.refuse(problems)
        leave = Leave(
            leave_id=lookup.new_id("LV"),
            staff_id=staff_id,
            kind=kind.value,
            start_date=start,
            end_date=end,
            half_day=half_day.value if half_day else None,
            recorded_at=uow.now(),
        )
        uow.session.add(leave)
        for row in to_cancel:
            withdraw_session(uow, row, staff, "staff_on_leave")
        uow.commit()
        return LeaveResult(leave, to_cancel)


def withdraw_leave(uow: StaffingUnitOfWork, leave_id: str) -> Leave:
    """The leave is not taken after all. Sessions cancelled for it stay cancelled (plan
    them again if wanted): bringing them back silently could double-book the person."""
    with uow:
        leave = uow.session.get(Leave, leave_id)
        if leave is None:
            raise NotFound("not_found", f"leave {leave_id} does not exist")
        if leave.withdrawn_at is not None:
            raise Conflict("already_withdrawn", f"leave {leave_id} was already withdrawn")
        leave.withdrawn_at = uow.now()
        uow.commit()
        return leave
