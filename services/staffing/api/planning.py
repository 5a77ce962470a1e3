"""Admin HTTP for planning: single sessions, recurring weekly patterns, cancellations.

A change that breaks a scheduling rule is refused with 409 ``rule_violated``; ``details``
lists every violation with its rule (``double_booking``, ``travel_impossible``,
``on_leave``, ``stationed_elsewhere``, ``week_closed``...), the half-day and a message.
A change that is made answers with ``coverage``: the community's coverage rules the person
(or their community) still misses in the weeks it touched.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, ConfigDict, Field

from libs.events.catalogue.values import HalfDay
from libs.events.payload import Code, Identifier
from libs.platform.auth import Role
from libs.platform.http.errors import ApiError
from libs.platform.http.pagination import Page, PageDep
from libs.platform.http.security import ensure_facility
from services.staffing.adapters.schema import Rotation
from services.staffing.api.common import Planner, StaffingUow, TimetableReader
from services.staffing.domain.calendar import Weekday, week_start
from services.staffing.domain.rotations import RotationPattern, WeeklySlot
from services.staffing.domain.sessions import SessionStatus
from services.staffing.service_layer import coverage, planning
from services.staffing.service_layer.errors import NotFound
from services.staffing.service_layer.views import SessionFilter, list_sessions, session_view

router = APIRouter(tags=["planning"])


class SessionIn(BaseModel):
    """One half-day session of a person at a member facility."""

    model_config = ConfigDict(extra="forbid")

    staff_id: Identifier
    facility_id: Identifier
    date: date
    half_day: HalfDay


class WeeklySlotIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    weekday: Weekday
    half_day: HalfDay


class RotationIn(BaseModel):
    """A recurring weekly pattern: these half-days every week from start to end."""

    model_config = ConfigDict(extra="forbid")

    staff_id: Identifier
    facility_id: Identifier
    slots: list[WeeklySlotIn] = Field(min_length=1, max_length=14)
    start_date: date
    end_date: date


class Cancellation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Code = "cancelled"


class RotationCancellation(Cancellation):
    from_date: date | None = Field(
        default=None, description="First day to cancel (default: today)."
    )


def _rotation_view(row: Rotation) -> dict[str, Any]:
    return {
        "rotation_id": row.rotation_id,
        "staff_id": row.staff_id,
        "facility_id": row.facility_id,
        "slots": row.slots,
        "start_date": row.start_date.isoformat(),
        "end_date": row.end_date.isoformat(),
        "cancelled_from": row.cancelled_from.isoformat() if row.cancelled_from else None,
    }


@router.get("/sessions", summary="Sessions (clinic staff see their own facility's)")
def sessions(
    principal: TimetableReader,
    uow: StaffingUow,
    page: PageDep,
    staff_id: Annotated[str | None, Query(max_length=64)] = None,
    facility_id: Annotated[str | None, Query(max_length=64)] = None,
    week: Annotated[date | None, Query(description="Any day of the week")] = None,
    status_: Annotated[SessionStatus | None, Query(alias="status")] = None,
    rotation_id: Annotated[str | None, Query(max_length=64)] = None,
) -> Page[dict[str, Any]]:
    if principal.role is Role.CLINIC_STAFF:
        facility_id = facility_id or principal.facility_id
        ensure_facility(principal, facility_id or "")
    wanted = SessionFilter(
        staff_id=staff_id,
        facility_id=facility_id,
        week_start=week_start(week) if week else None,
        status=status_,
        rotation_id=rotation_id,
    )
    items, total = list_sessions(uow, wanted, limit=page.limit, offset=page.offset)
    return page.of(items, total=total)


@router.post("/sessions", status_code=status.HTTP_201_CREATED, summary="Plan one session")
def plan_session(body: SessionIn, _: Planner, uow: StaffingUow) -> dict[str, Any]:
    row = planning.plan_session(
        uow,
        staff_id=body.staff_id,
        facility_id=body.facility_id,
        day=body.date,
        half_day=body.half_day,
    )
    return session_view(row) | {"coverage": coverage.notes(uow, row.staff_id, [row.date])}


@router.post("/sessions/{session_id}/cancel", summary="Cancel a planned session")
def cancel_session(
    session_id: str, body: Cancellation, _: Planner, uow: StaffingUow
) -> dict[str, Any]:
    row = planning.cancel_session(uow, session_id, body.reason)
    return session_view(row) | {"coverage": coverage.notes(uow, row.staff_id, [row.date])}


@router.post(
    "/rotations",
    status_code=status.HTTP_201_CREATED,
    summary="Plan a recurring weekly pattern (leave days are skipped)",
)
def plan_rotation(body: RotationIn, _: Planner, uow: StaffingUow) -> dict[str, Any]:
    try:
        pattern = RotationPattern(
            frozenset(WeeklySlot(s.weekday, s.half_day) for s in body.slots),
            body.start_date,
            body.end_date,
        )
    except ValueError as exc:
        raise ApiError(422, "invalid_pattern", str(exc)) from None
    result = planning.plan_rotation(
        uow, staff_id=body.staff_id, facility_id=body.facility_id, pattern=pattern
    )
    return {
        **_rotation_view(result.rotation),
        "sessions": [session_view(s) for s in result.sessions],
        "skipped": [
            {
                "date": slot.date.isoformat(),
                "half_day": slot.half_day.value,
                "reason": "on_leave",
                "leave_id": absence.leave_id,
            }
            for slot, absence in result.skipped
        ],
        "coverage": coverage.notes(uow, body.staff_id, [s.date for s in result.sessions]),
    }


@router.get("/rotations/{rotation_id}", summary="One recurring pattern")
def get_rotation(rotation_id: str, _: Planner, uow: StaffingUow) -> dict[str, Any]:
    with uow:
        row = uow.session.get(Rotation, rotation_id)
        if row is None:
            raise NotFound("not_found", f"rotation {rotation_id} does not exist")
        return _rotation_view(row)


@router.post(
    "/rotations/{rotation_id}/cancel",
    summary="Stop a pattern: its planned sessions from a day on are cancelled",
)
def cancel_rotation(
    rotation_id: str, body: RotationCancellation, _: Planner, uow: StaffingUow
) -> dict[str, Any]:
    cancelled = planning.cancel_rotation(
        uow, rotation_id, from_date=body.from_date, reason=body.reason
    )
    staff_ids = {s.staff_id for s in cancelled}
    return {
        "rotation_id": rotation_id,
        "cancelled_sessions": [s.session_id for s in cancelled],
        "coverage": [
            note
            for staff_id in staff_ids
            for note in coverage.notes(uow, staff_id, [s.date for s in cancelled])
        ],
    }
