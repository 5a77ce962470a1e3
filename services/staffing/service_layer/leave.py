"""Leave and declared unavailability: recorded, checked against sessions, withdrawn.

No session may fall during leave: what leave does to the sessions it covers is decided in
``domain/leave.py``; the ones it cancels are cancelled and announced in the same
transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from libs.events.catalogue.values import HalfDay
from services.staffing.adapters.schema import ExpertSession, Leave
from services.staffing.domain.leave import MAX_LEAVE_DAYS, leave_over_sessions
from services.staffing.domain.rules import Absence
from services.staffing.service_layer import lookup
from services.staffing.service_layer.errors import Conflict, Invalid, NotFound
from services.staffing.service_layer.planning import withdraw_session
from services.staffing.service_layer.unit_of_work import StaffingUnitOfWork

__all__ = ["LeaveKind", "LeaveResult", "record_leave", "withdraw_leave"]


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
        rows = {s.session_id: s for s in uow.workforce.held_sessions(staff_id, start, end)}
        outcome = leave_over_sessions(
            absence,
            staff.display_name,
            map(lookup.held, rows.values()),
            cancel_sessions=cancel_sessions,
            today=uow.today(),
        )
        if outcome.violations:
            raise uow.refuse(outcome.violations)
        leave = Leave(
            leave_id=lookup.new_id("LV"),
            staff_id=staff_id,
            kind=kind.value,
            start_date=start,
            end_date=end,
            half_day=half_day.value if half_day else None,
            recorded_at=uow.now(),
        )
        uow.workforce.add(leave)
        cancelled = [rows[held.session_id] for held in outcome.cancelled]
        for row in cancelled:
            withdraw_session(uow, row, staff, "staff_on_leave")
        uow.commit()
        return LeaveResult(leave, cancelled)


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
