"""A read-only router over a service's copy of the organisation (for operators and tests)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from libs.directory.lookup import FacilityDirectory
from libs.directory.tables import KnownFacility
from libs.platform.http.dependencies import UnitOfWorkDep
from libs.platform.http.errors import ApiError
from libs.platform.http.security import AnyRole

__all__ = ["router"]

router = APIRouter(prefix="/directory", tags=["organisation copy"])


def _view(row: KnownFacility) -> dict[str, Any]:
    return {
        "facility_id": row.facility_id,
        "name": row.name,
        "community_id": row.community_id,
        "tier": row.tier,
        "facility_type": row.facility_type,
        "parent_facility_id": row.parent_facility_id,
        "active": row.active,
        "departments": row.departments,
    }


@router.get("/facilities", summary="This service's copy of the member facilities")
def list_facilities(
    _: AnyRole, uow: UnitOfWorkDep, community_id: str | None = None
) -> list[dict[str, Any]]:
    with uow:
        return [_view(f) for f in FacilityDirectory(uow.session).all(community_id=community_id)]


@router.get("/facilities/{facility_id}", summary="One facility as this service knows it")
def get_facility(facility_id: str, _: AnyRole, uow: UnitOfWorkDep) -> dict[str, Any]:
    with uow:
        row = FacilityDirectory(uow.session).get(facility_id)
        if row is None:
            raise ApiError(404, "not_found", f"facility {facility_id} is not known here")
        return _view(row)
