"""Admin HTTP for leave, unavailability and stationings (派驻)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, select

from libs.events.catalogue.values import HalfDay
from libs.events.payload import Identifier
from libs.platform.http.pagination import Page, PageDep
from services.staffing.adapters.schema import Leave, Stationing
from services.staffing.api.common import PersonnelReader, Planner, StaffingUow
from services.staffing.service_layer import coverage, leave, stationing
from services.staffing.service_layer.lookup import aware
from services.staffing.service_layer.views import session_view

router = APIRouter(tags=["leave and stationing"])


class LeaveIn(BaseModel):
    """Leave or unavailability: whole days, or only the mornings/afternoons of the range."""

    model_config = ConfigDict(extra="forbid")

    staff_id: Identifier
    kind: leave.LeaveKind
    start_date: date
    end_date: date
    half_day: HalfDay | None = None
    cancel_sessions: bool = False


class StationingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    staff_id: Identifier
    facility_id: Identifier
    start_date: date
    planned_end_date: date


class StationingEnd(BaseModel):
    model_config = ConfigDict(extra="forbid")

    end_date: date


def _leave_view(row: Leave) -> dict[str, Any]:
    return {
        "leave_id": row.leave_id,
        "staff_id": row.staff_id,
        "kind": row.kind,
        "start_date": row.start_date.isoformat(),
        "end_date": row.end_date.isoformat(),
        "half_day": row.half_day,
        "withdrawn": row.withdrawn_at is not None,
    }


def _stationing_view(row: Stationing) -> dict[str, Any]:
    return {
        "stationing_id": row.stationing_id,
        "staff_id": row.staff_id,
        "facility_id": row.facility_id,
        "start_date": row.start_date.isoformat(),
        "planned_end_date": row.planned_end_date.isoformat(),
        "end_date": row.end_date.isoformat() if row.end_date else None,
        "started_at": aware(row.started_at).isoformat(),
    }


@router.get("/leave", summary="Leave records of a member of staff")
def list_leave(
    staff_id: Annotated[str, Query(max_length=64)],
    _: Planner,
    uow: StaffingUow,
    page: PageDep,
) -> Page[dict[str, Any]]:
    with uow:
        where = Leave.staff_id == staff_id
        total = uow.session.scalar(select(func.count()).select_from(Leave).where(where))
        rows = uow.session.scalars(
            select(Leave)
            .where(where)
            .order_by(Leave.start_date, Leave.leave_id)
            .limit(page.limit)
            .offset(page.offset)
        )
        return page.of([_leave_view(r) for r in rows], total=int(total or 0))


@router.post(
    "/leave",
    status_code=status.HTTP_201_CREATED,
    summary="Record leave (refused over planned sessions unless cancel_sessions)",
)
def record_leave(body: LeaveIn, _: Planner, uow: StaffingUow) -> dict[str, Any]:
    result = leave.record_leave(
        uow,
        staff_id=body.staff_id,
        kind=body.kind,
        start=body.start_date,
        end=body.end_date,
        half_day=body.half_day,
        cancel_sessions=body.cancel_sessions,
    )
    return {
        **_leave_view(result.leave),
        "cancelled_sessions": [session_view(s) for s in result.cancelled],
        "coverage": coverage.notes(uow, body.staff_id, [s.date for s in result.cancelled]),
    }


@router.post("/leave/{leave_id}/withdraw", summary="The leave is not taken after all")
def withdraw_leave(leave_id: str, _: Planner, uow: StaffingUow) -> dict[str, Any]:
    return _leave_view(leave.withdraw_leave(uow, leave_id))


@router.get("/stationings", summary="Stationings (filter by facility, or those on a day)")
def list_stationings(
    _: PersonnelReader,
    uow: StaffingUow,
    page: PageDep,
    facility_id: Annotated[str | None, Query(max_length=64)] = None,
    on: date | None = None,
) -> Page[dict[str, Any]]:
    conditions = []
    if facility_id:
        conditions.append(Stationing.facility_id == facility_id)
    if on is not None:
        last_day = func.coalesce(Stationing.end_date, Stationing.planned_end_date)
        conditions += [Stationing.start_date <= on, last_day >= on]
    with uow:
        total = uow.session.scalar(select(func.count()).select_from(Stationing).where(*conditions))
        rows = uow.session.scalars(
            select(Stationing)
            .where(*conditions)
            .order_by(Stationing.start_date, Stationing.stationing_id)
            .limit(page.limit)
            .offset(page.offset)
        )
        return page.of([_stationing_view(r) for r in rows], total=int(total or 0))


@router.post(
    "/stationings", status_code=status.HTTP_201_CREATED, summary="Station a specialist at a member"
)
def start_stationing(body: StationingIn, _: Planner, uow: StaffingUow) -> dict[str, Any]:
    row = stationing.start_stationing(
        uow,
        staff_id=body.staff_id,
        facility_id=body.facility_id,
        start=body.start_date,
        planned_end=body.planned_end_date,
    )
    return _stationing_view(row)


@router.post("/stationings/{stationing_id}/end", summary="End a stationing")
def end_stationing(
    stationing_id: str, body: StationingEnd, _: Planner, uow: StaffingUow
) -> dict[str, Any]:
    return _stationing_view(stationing.end_stationing(uow, stationing_id, body.end_date))
