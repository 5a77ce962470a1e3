"""Admin HTTP for the unified formulary: read by everyone, changed by the pharmacy centre."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, or_, select

from libs.events.catalogue.pharmacy import DrugSnapshot
from libs.events.payload import Code
from libs.platform.http.errors import ApiError
from libs.platform.http.pagination import Page, PageDep
from libs.platform.http.security import AnyRole
from services.pharmacy.adapters.schema import DrugRow
from services.pharmacy.api.deps import PharmacyCentre, PharmacyUow
from services.pharmacy.service_layer import formulary

router = APIRouter(prefix="/formulary", tags=["formulary"])


class Delisting(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Code


def drug_view(row: DrugRow) -> dict[str, Any]:
    view: dict[str, Any] = formulary.snapshot_of(row).model_dump(mode="json")
    view.update(
        listed=row.listed,
        delisted_at=row.delisted_at.isoformat() if row.delisted_at else None,
        delist_reason=row.delist_reason,
    )
    return view


@router.get("/drugs", summary="The formulary, filtered and paginated")
def list_drugs(
    _: AnyRole,
    uow: PharmacyUow,
    page: PageDep,
    q: str | None = Query(default=None, max_length=100, description="Code or name contains"),
    listed: bool | None = None,
    essential: bool | None = None,
    tcm: bool | None = None,
) -> Page[dict[str, Any]]:
    query = select(DrugRow)
    if q:
        pattern = f"%{q}%"
        query = query.where(
            or_(
                DrugRow.drug_code.ilike(pattern),
                DrugRow.name.ilike(pattern),
                DrugRow.generic_name.ilike(pattern),
            )
        )
    for column, value in (
        (DrugRow.listed, listed),
        (DrugRow.essential, essential),
        (DrugRow.tcm, tcm),
    ):
        if value is not None:
            query = query.where(column.is_(value))
    with uow:
        total = uow.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = uow.session.scalars(
            query.order_by(DrugRow.drug_code).limit(page.limit).offset(page.offset)
        )
        return page.of([drug_view(row) for row in rows], total=total)


@router.get("/drugs/{drug_code}", summary="One formulary entry")
def get_drug(drug_code: str, _: AnyRole, uow: PharmacyUow) -> dict[str, Any]:
    with uow:
        row = uow.session.get(DrugRow, drug_code)
        if row is None:
            raise ApiError(404, "unknown_drug", f"drug {drug_code} is not in the formulary")
        return drug_view(row)


@router.post(
    "/drugs",
    status_code=status.HTTP_201_CREATED,
    summary="List a drug (or list a delisted one again); announced as pharmacy.drug.listed",
)
def list_drug(body: DrugSnapshot, _: PharmacyCentre, uow: PharmacyUow) -> dict[str, Any]:
    event = formulary.list_drug(uow, body)
    return event.model_dump(mode="json")


@router.put("/drugs/{drug_code}", summary="Change a listed drug (the full entry)")
def update_drug(
    drug_code: str, body: DrugSnapshot, _: PharmacyCentre, uow: PharmacyUow
) -> dict[str, Any]:
    if body.drug_code != drug_code:
        raise ApiError(422, "code_mismatch", "the body's drug_code differs from the path's")
    snapshot = formulary.update_drug(uow, body)
    return snapshot.model_dump(mode="json")


@router.post("/drugs/{drug_code}/delist", summary="Delist a drug: no more receipts or dispensing")
def delist_drug(
    drug_code: str, body: Delisting, _: PharmacyCentre, uow: PharmacyUow
) -> dict[str, Any]:
    event = formulary.delist_drug(uow, drug_code, body.reason)
    return event.model_dump(mode="json")
