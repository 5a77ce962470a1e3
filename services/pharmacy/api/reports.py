"""Admin HTTP lists: shortages (缺药登记), near-expiry and expired lots, reservations; and the
expiry scan on demand. Clinic staff see only their own facility."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Query, Request
from sqlalchemy import func, select

from libs.events.payload import cents
from libs.platform.auth import Principal
from libs.platform.http.pagination import Page, PageDep
from services.pharmacy.adapters.schema import ExpiryScanRow, ReservationRow, ShortageRow, StockLot
from services.pharmacy.api.deps import (
    PharmacyCentre,
    PharmacyUow,
    StockReader,
    StockValueReader,
    act_for,
)
from services.pharmacy.service_layer.expiry import scan_all

router = APIRouter(tags=["reports"])


def _scope(principal: Principal, facility_id: str | None) -> str | None:
    """The facility a list is limited to: clinic staff always their own."""
    if facility_id is not None:
        act_for(principal, facility_id)
    return principal.facility_id or facility_id


@router.get("/shortages", summary="Shortages (缺药登记), newest first")
def shortages(
    principal: StockReader,
    uow: PharmacyUow,
    page: PageDep,
    facility_id: str | None = Query(default=None, max_length=64),
    open_only: bool = Query(default=True, alias="open", description="Only those not restocked"),
) -> Page[dict[str, Any]]:
    scope = _scope(principal, facility_id)
    query = select(ShortageRow)
    if scope is not None:
        query = query.where(ShortageRow.facility_id == scope)
    if open_only:
        query = query.where(ShortageRow.resolved_at.is_(None))
    with uow:
        total = uow.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = uow.session.scalars(
            query.order_by(ShortageRow.recorded_at.desc(), ShortageRow.shortage_id)
            .limit(page.limit)
            .offset(page.offset)
        )
        return page.of(
            [
                {
                    "shortage_id": r.shortage_id,
                    "facility_id": r.facility_id,
                    "drug_code": r.drug_code,
                    "quantity_short": r.quantity_short,
                    "prescription_id": r.prescription_id,
                    "referral_id": r.referral_id,
                    "recorded_at": r.recorded_at.isoformat(),
                    "resolved_at": r.resolved_at.isoformat() if r.resolved_at else None,
                }
                for r in rows
            ],
            total=total,
        )


@router.get(
    "/expiry/lots", summary="Lots expiring within the horizon (and expired ones), soonest first"
)
def expiring_lots(
    principal: StockReader,
    uow: PharmacyUow,
    page: PageDep,
    facility_id: str | None = Query(default=None, max_length=64),
    within_days: int | None = Query(default=None, ge=1, le=3650, description="Default: policy"),
) -> Page[dict[str, Any]]:
    scope = _scope(principal, facility_id)
    with uow:
        today = uow.today()
        limit = today + timedelta(days=within_days or uow.policy.near_expiry_days)
        query = select(StockLot).where(StockLot.on_hand > 0, StockLot.expiry_date <= limit)
        if scope is not None:
            query = query.where(StockLot.facility_id == scope)
        total = uow.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = uow.session.scalars(
            query.order_by(StockLot.expiry_date, StockLot.facility_id, StockLot.drug_code)
            .limit(page.limit)
            .offset(page.offset)
        )
        return page.of(
            [
                {
                    "facility_id": r.facility_id,
                    "drug_code": r.drug_code,
                    "lot_number": r.lot_number,
                    "expiry_date": r.expiry_date.isoformat(),
                    "days_left": (r.expiry_date - today).days,
                    "expired": r.expiry_date < today,
                    "on_hand": r.on_hand,
                    "value": str(cents(Decimal(r.unit_cost) * r.on_hand)),
                }
                for r in rows
            ],
            total=total,
        )


@router.get("/expiry/value", summary="Near-expiry and expired value per facility, at cost")
def expiring_value(
    principal: StockValueReader,
    uow: PharmacyUow,
    facility_id: str | None = Query(default=None, max_length=64),
) -> list[dict[str, Any]]:
    scope = _scope(principal, facility_id)
    with uow:
        today = uow.today()
        limit = today + timedelta(days=uow.policy.near_expiry_days)
        query = select(StockLot).where(StockLot.on_hand > 0, StockLot.expiry_date <= limit)
        if scope is not None:
            query = query.where(StockLot.facility_id == scope)
        values: dict[str, dict[str, Decimal]] = {}
        for lot in uow.session.scalars(query):
            entry = values.setdefault(
                lot.facility_id, {"near_expiry": Decimal("0.00"), "expired": Decimal("0.00")}
            )
            key = "expired" if lot.expiry_date < today else "near_expiry"
            entry[key] += cents(Decimal(lot.unit_cost) * lot.on_hand)
        scans = dict(
            uow.session.execute(
                select(ExpiryScanRow.facility_id, func.max(ExpiryScanRow.scanned_on)).group_by(
                    ExpiryScanRow.facility_id
                )
            ).all()
        )
        return [
            {
                "facility_id": fid,
                "horizon_days": uow.policy.near_expiry_days,
                "near_expiry_value": str(v["near_expiry"]),
                "expired_value": str(v["expired"]),
                "last_scanned_on": scans[fid].isoformat() if fid in scans else None,
            }
            for fid, v in sorted(values.items())
        ]


@router.post("/expiry/scan", summary="Run today's expiry scan now (each facility once a day)")
def run_scan(_: PharmacyCentre, request: Request) -> dict[str, int]:
    return {"facilities_scanned": scan_all(request.app.state.uow_factory)}


@router.get("/reservations", summary="Stock reserved for patients referred down")
def reservations(
    principal: StockReader,
    uow: PharmacyUow,
    page: PageDep,
    facility_id: str | None = Query(default=None, max_length=64),
    active: bool = True,
) -> Page[dict[str, Any]]:
    scope = _scope(principal, facility_id)
    query = select(ReservationRow).where(ReservationRow.active.is_(active))
    if scope is not None:
        query = query.where(ReservationRow.facility_id == scope)
    with uow:
        total = uow.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = uow.session.scalars(
            query.order_by(ReservationRow.reserved_at.desc(), ReservationRow.reservation_id)
            .limit(page.limit)
            .offset(page.offset)
        )
        return page.of(
            [
                {
                    "reservation_id": r.reservation_id,
                    "facility_id": r.facility_id,
                    "drug_code": r.drug_code,
                    "referral_id": r.referral_id,
                    "quantity": r.quantity,
                    "reserved_until": r.reserved_until.isoformat(),
                    "active": r.active,
                    "released_reason": r.released_reason,
                }
                for r in rows
            ],
            total=total,
        )
