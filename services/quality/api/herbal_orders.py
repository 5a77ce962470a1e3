"""``/herbal-orders``: the shared TCM pharmacy's orders (共享中药房) and their steps.

The steps are taken by the shared pharmacy's own staff — clinic staff of the shared
pharmacy's facility (the TCM hospital: they decoct, pack and hand over to the courier) —
or by the central pharmacy (``pharmacy_centre``, which runs the county's review and may
stand in for the shared pharmacy's desk). A clinic reads only the orders it sent; the
shared pharmacy's staff read every order it prepares.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select

from libs.events.unit_of_work import UnitOfWork
from libs.platform.auth import Principal, Role
from libs.platform.http.dependencies import UnitOfWorkDep
from libs.platform.http.errors import ApiError
from libs.platform.http.pagination import Page, PageDep
from libs.platform.http.security import ensure_facility, require_roles
from services.quality.adapters.schema import HerbalOrderRow
from services.quality.domain.shared_pharmacy import OrderState
from services.quality.service_layer.shared_pharmacy import advance
from services.quality.service_layer.unit_of_work import quality_uow

router = APIRouter(prefix="/herbal-orders", tags=["shared TCM pharmacy"])

Readers = Annotated[
    Principal,
    Depends(require_roles(Role.PHARMACY_CENTRE, Role.COUNTY_ADMIN, Role.CLINIC_STAFF)),
]
Staff = Annotated[Principal, Depends(require_roles(Role.PHARMACY_CENTRE, Role.CLINIC_STAFF))]
_STATES = "^(" + "|".join(s.value for s in OrderState) + ")$"


class HerbalOrderView(BaseModel):
    order_id: str
    facility_id: str = Field(description="The clinic that sent the prescription.")
    prescription_id: str
    pharmacy_facility_id: str
    state: str = Field(description="accepted, decocting, dispatched, delivered, delivery_failed")
    lines: list[dict[str, Any]]
    doses: int
    decoct: bool
    deliver_home: bool
    fees: dict[str, Decimal]
    attempts: int
    accepted_at: datetime
    deliver_by: datetime
    decoction_started_at: datetime | None
    dispatched_at: datetime | None
    delivered_at: datetime | None
    failed_at: datetime | None
    failure_reason: str | None
    overdue: bool


class FailureIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(
        min_length=1,
        max_length=32,
        pattern=r"^[a-z][a-z_]*$",
        description="Why the courier could not deliver: nobody_home, wrong_address, refused, …",
    )


def view(row: HerbalOrderRow) -> HerbalOrderView:
    fees = {
        "preparation": row.preparation_fee,
        "decoction": row.decoction_fee,
        "delivery": row.delivery_fee,
        "total": row.preparation_fee + row.decoction_fee + row.delivery_fee,
    }
    return HerbalOrderView(
        order_id=row.order_id,
        facility_id=row.facility_id,
        prescription_id=row.prescription_id,
        pharmacy_facility_id=row.pharmacy_facility_id,
        state=row.state,
        lines=list(row.lines),
        doses=row.doses,
        decoct=row.decoct,
        deliver_home=row.deliver_home,
        fees=fees,
        attempts=row.attempts,
        accepted_at=row.accepted_at,
        deliver_by=row.deliver_by,
        decoction_started_at=row.decoction_started_at,
        dispatched_at=row.dispatched_at,
        delivered_at=row.delivered_at,
        failed_at=row.failed_at,
        failure_reason=row.failure_reason,
        overdue=row.overdue_at is not None,
    )


def _pharmacy_of(uow: UnitOfWork) -> str:
    return quality_uow(uow).config.shared_pharmacy.pharmacy_facility_id


def _may_read(principal: Principal, row: HerbalOrderRow) -> bool:
    return principal.role is not Role.CLINIC_STAFF or principal.facility_id in (
        row.facility_id,
        row.pharmacy_facility_id,
    )


@router.get("", response_model=Page[HerbalOrderView], summary="Orders, oldest first")
def list_orders(
    principal: Readers,
    uow: UnitOfWorkDep,
    page: PageDep,
    state: Annotated[str | None, Query(pattern=_STATES)] = None,
    facility_id: Annotated[str | None, Query(max_length=64)] = None,
) -> Page[HerbalOrderView]:
    """The shared pharmacy works its queue by state (``accepted`` to decoct, ``decocting`` to
    dispatch, ``dispatched`` awaiting the courier); a clinic sees the orders it sent."""
    query = select(HerbalOrderRow)
    if principal.role is Role.CLINIC_STAFF and principal.facility_id != _pharmacy_of(uow):
        facility_id = facility_id or principal.facility_id or ""
        ensure_facility(principal, facility_id)
    if state is not None:
        query = query.where(HerbalOrderRow.state == state)
    if facility_id is not None:
        query = query.where(HerbalOrderRow.facility_id == facility_id)
    with uow:
        total = uow.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = uow.session.scalars(
            query.order_by(HerbalOrderRow.accepted_at, HerbalOrderRow.order_id)
            .limit(page.limit)
            .offset(page.offset)
        ).all()
        return page.of([view(r) for r in rows], total=total)


@router.get("/{order_id}", response_model=HerbalOrderView, summary="One order")
def get_order(order_id: str, principal: Readers, uow: UnitOfWorkDep) -> HerbalOrderView:
    with uow:
        row = uow.session.get(HerbalOrderRow, order_id)
        if row is None or not _may_read(principal, row):  # another clinic's: as if unknown
            raise ApiError(404, "not_found", f"no shared-pharmacy order {order_id[:64]!r}")
        return view(row)


def _step(
    uow: UnitOfWork, who: Principal, order_id: str, step: str, reason: str | None = None
) -> HerbalOrderView:
    if who.role is Role.CLINIC_STAFF:
        ensure_facility(who, _pharmacy_of(uow))  # only the shared pharmacy's own staff
    return view(advance(quality_uow(uow), order_id, step, who.subject, reason))


_REFUSALS: dict[int | str, dict[str, Any]] = {
    404: {"description": "Unknown order"},
    409: {"description": "The order's state does not allow the step (details.state)"},
}


@router.post(
    "/{order_id}/decoction",
    response_model=HerbalOrderView,
    responses=_REFUSALS,
    summary="Start preparing and decocting (the shared pharmacy)",
)
def start_decoction(order_id: str, who: Staff, uow: UnitOfWorkDep) -> HerbalOrderView:
    return _step(uow, who, order_id, "decoction")


@router.post(
    "/{order_id}/dispatch",
    response_model=HerbalOrderView,
    responses=_REFUSALS,
    summary="Hand the order to the courier (again after a failed delivery)",
)
def dispatch(order_id: str, who: Staff, uow: UnitOfWorkDep) -> HerbalOrderView:
    return _step(uow, who, order_id, "dispatch")


@router.post(
    "/{order_id}/delivery",
    response_model=HerbalOrderView,
    responses=_REFUSALS,
    summary="The patient received the order",
)
def deliver(order_id: str, who: Staff, uow: UnitOfWorkDep) -> HerbalOrderView:
    return _step(uow, who, order_id, "delivery")


@router.post(
    "/{order_id}/delivery-failure",
    response_model=HerbalOrderView,
    responses=_REFUSALS,
    summary="The courier could not deliver",
)
def fail_delivery(
    order_id: str, body: FailureIn, who: Staff, uow: UnitOfWorkDep
) -> HerbalOrderView:
    return _step(uow, who, order_id, "delivery-failure", body.reason)
