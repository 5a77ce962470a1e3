"""Admin HTTP for receiving capacity: a department publishes its slots and beds per day."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Query

from libs.events.envelope import utc_now
from libs.platform.http.dependencies import UnitOfWorkDep
from libs.platform.http.errors import ApiError
from services.referral.api.dependencies import ActorDep, ConfigDep
from services.referral.api.schemas import CapacityDay, CapacityIn
from services.referral.domain.capacity import CapacityKind, DayCapacity
from services.referral.service_layer.capacity import publish_capacity
from services.referral.service_layer.unit_of_work import referral_records

router = APIRouter(prefix="/capacity", tags=["capacity"])

#: Longest range one capacity query may cover.
MAX_DAYS = 92


def _view(facility_id: str, department_id: str, day: DayCapacity) -> CapacityDay:
    return CapacityDay(
        facility_id=facility_id,
        department_id=department_id,
        day=day.day,
        slots=day.slots,
        beds=day.beds,
        held_slots=day.held_slots,
        held_beds=day.held_beds,
        free_slots=day.free(CapacityKind.SLOT),
        free_beds=day.free(CapacityKind.BED),
    )


@router.put(
    "/{facility_id}/{department_id}/{day}",
    summary="Publish a department's slots and beds for a day (its facility, or the county)",
    responses={403: {}, 409: {"description": "Fewer than are already held"}, 422: {}},
)
def publish(
    facility_id: str,
    department_id: str,
    day: date,
    body: CapacityIn,
    actor: ActorDep,
    config: ConfigDep,
    uow: UnitOfWorkDep,
) -> CapacityDay:
    published = publish_capacity(
        uow,
        config,
        facility_id=facility_id,
        department_id=department_id,
        day=day,
        slots=body.slots,
        beds=body.beds,
        actor=actor,
        now=utc_now(),
    )
    return _view(facility_id, department_id, published)


@router.get("/{facility_id}/{department_id}", summary="A department's capacity over some days")
def read(
    facility_id: str,
    department_id: str,
    _: ActorDep,
    config: ConfigDep,
    uow: UnitOfWorkDep,
    start: Annotated[date | None, Query(alias="from")] = None,
    end: Annotated[date | None, Query(alias="to")] = None,
) -> list[CapacityDay]:
    first = start or config.clock.today()
    last = end or first + timedelta(days=config.capacity_lookahead_days)
    if last < first or (last - first).days > MAX_DAYS:
        raise ApiError(422, "invalid_range", f"from..to must be 0 to {MAX_DAYS} days long")
    with uow:
        days = referral_records(uow).capacity_days(facility_id, department_id, first, last)
    return [_view(facility_id, department_id, d) for d in days]
