"""Admin HTTP for the staff registry: people and positions."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, select

from libs.events.catalogue.staffing import StaffSnapshot
from libs.events.catalogue.values import StaffTitle
from libs.events.payload import Identifier, Name
from libs.platform.http.pagination import Page, PageDep
from services.staffing.adapters.schema import Position, StaffMember
from services.staffing.api.common import PersonnelReader, Planner, StaffingUow
from services.staffing.domain.registry import PositionSpec, is_active
from services.staffing.service_layer import registry
from services.staffing.service_layer.errors import NotFound
from services.staffing.service_layer.lookup import aware

router = APIRouter(tags=["staff registry"])


class StaffChange(BaseModel):
    """A member of staff as HR describes them."""

    model_config = ConfigDict(extra="forbid")

    display_name: Name
    home_facility_id: Identifier
    department_id: Identifier | None = None
    title: StaffTitle
    specialty: Name
    active_from: date
    active_until: date | None = None
    position_id: Identifier | None = None


class StaffIn(StaffChange):
    staff_id: Identifier


class Deactivation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    active_until: date


def _staff_view(row: StaffMember, today: date) -> dict[str, Any]:
    return {
        "staff_id": row.staff_id,
        "display_name": row.display_name,
        "home_facility_id": row.home_facility_id,
        "department_id": row.department_id,
        "title": row.title,
        "specialty": row.specialty,
        "active_from": row.active_from.isoformat(),
        "active_until": row.active_until.isoformat() if row.active_until else None,
        "active": row.deactivated_at is None
        and is_active(row.active_from, row.active_until, today),
        "position_id": row.position_id,
        "deactivated_at": aware(row.deactivated_at).isoformat() if row.deactivated_at else None,
    }


def _snapshot(staff_id: str, body: StaffChange) -> StaffSnapshot:
    return StaffSnapshot(staff_id=staff_id, **body.model_dump(exclude={"position_id", "staff_id"}))


@router.get("/staff", summary="The staff registry (filter by facility, title, active)")
def list_staff(
    _: PersonnelReader,
    uow: StaffingUow,
    page: PageDep,
    facility_id: Annotated[str | None, Query(max_length=64)] = None,
    title: StaffTitle | None = None,
    active: bool | None = None,
) -> Page[dict[str, Any]]:
    conditions = []
    if facility_id:
        conditions.append(StaffMember.home_facility_id == facility_id)
    if title:
        conditions.append(StaffMember.title == title.value)
    with uow:
        today = uow.today()
        if active is not None:
            current = StaffMember.deactivated_at.is_(None) & (StaffMember.active_from <= today)
            current &= StaffMember.active_until.is_(None) | (StaffMember.active_until >= today)
            conditions.append(current if active else ~current)
        total = uow.session.scalar(select(func.count()).select_from(StaffMember).where(*conditions))
        rows = uow.session.scalars(
            select(StaffMember)
            .where(*conditions)
            .order_by(StaffMember.staff_id)
            .limit(page.limit)
            .offset(page.offset)
        )
        return page.of([_staff_view(r, today) for r in rows], total=int(total or 0))


@router.get("/staff/{staff_id}", summary="One member of staff")
def get_staff(staff_id: str, _: PersonnelReader, uow: StaffingUow) -> dict[str, Any]:
    with uow:
        row = uow.session.get(StaffMember, staff_id)
        if row is None:
            raise NotFound("not_found", f"staff member {staff_id} does not exist")
        return _staff_view(row, uow.today())


@router.post("/staff", status_code=status.HTTP_201_CREATED, summary="Register a member of staff")
def register_staff(body: StaffIn, _: Planner, uow: StaffingUow) -> dict[str, Any]:
    row = registry.register_staff(uow, _snapshot(body.staff_id, body), body.position_id)
    return _staff_view(row, uow.today())


@router.put("/staff/{staff_id}", summary="Change a member of staff's record")
def update_staff(staff_id: str, body: StaffChange, _: Planner, uow: StaffingUow) -> dict[str, Any]:
    with uow:
        if uow.session.get(StaffMember, staff_id) is None:
            raise NotFound("not_found", f"staff member {staff_id} does not exist")
    row = registry.update_staff(uow, _snapshot(staff_id, body), body.position_id)
    return _staff_view(row, uow.today())


@router.post(
    "/staff/{staff_id}/deactivate",
    summary="A member of staff leaves: later sessions are cancelled, the position falls vacant",
)
def deactivate_staff(
    staff_id: str, body: Deactivation, _: Planner, uow: StaffingUow
) -> dict[str, Any]:
    with uow:
        if uow.session.get(StaffMember, staff_id) is None:
            raise NotFound("not_found", f"staff member {staff_id} does not exist")
    result = registry.deactivate_staff(uow, staff_id, body.active_until)
    return {
        **_staff_view(result.staff, uow.today()),
        "cancelled_sessions": [s.session_id for s in result.cancelled],
        "ended_stationings": [s.stationing_id for s in result.ended],
    }


def _position_view(uow: StaffingUow, row: Position) -> dict[str, Any]:
    held_by = registry.holder(uow, row.position_id)
    return {
        "position_id": row.position_id,
        "facility_id": row.facility_id,
        "department_id": row.department_id,
        "title": row.title,
        "specialty": row.specialty,
        "vacant": held_by is None,
        "held_by": held_by.staff_id if held_by else None,
    }


@router.get("/positions", summary="Positions of the establishment (filter vacant ones)")
def list_positions(
    _: PersonnelReader,
    uow: StaffingUow,
    page: PageDep,
    facility_id: Annotated[str | None, Query(max_length=64)] = None,
    vacant: bool | None = None,
) -> Page[dict[str, Any]]:
    with uow:
        query = select(Position).order_by(Position.position_id)
        if facility_id:
            query = query.where(Position.facility_id == facility_id)
        views = [_position_view(uow, row) for row in uow.session.scalars(query)]
    if vacant is not None:
        views = [v for v in views if v["vacant"] is vacant]
    return page.of(views[page.offset : page.offset + page.limit], total=len(views))


@router.post("/positions", status_code=status.HTTP_201_CREATED, summary="Add a position")
def create_position(body: PositionSpec, _: Planner, uow: StaffingUow) -> dict[str, Any]:
    registry.create_position(uow, body)
    with uow:
        row = uow.session.get(Position, body.position_id)
        assert row is not None
        return _position_view(uow, row)
