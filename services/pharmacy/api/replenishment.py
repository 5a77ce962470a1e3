"""Admin HTTP for replenishment: the levels of an item, and surplus-to-shortage suggestions."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, status
from pydantic import BaseModel, ConfigDict

from libs.events.payload import Count
from libs.platform.auth import Principal, Role
from libs.platform.http.errors import ApiError
from libs.platform.http.security import require_roles
from services.pharmacy.api.deps import PharmacyCentre, PharmacyUow
from services.pharmacy.service_layer import levels

router = APIRouter(prefix="/replenishment", tags=["replenishment"])

#: Who looks across members' stock: the central pharmacy and the management centre.
Planner = Annotated[Principal, Depends(require_roles(Role.PHARMACY_CENTRE, Role.COUNTY_ADMIN))]


class LevelsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reorder_point: Count
    target_level: Count


@router.put(
    "/{facility_id}/levels/{drug_code}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Set an item's re-order point and target level by hand",
)
def set_levels(
    facility_id: str, drug_code: str, body: LevelsIn, principal: PharmacyCentre, uow: PharmacyUow
) -> None:
    levels.set_levels(
        uow, facility_id, drug_code, body.reorder_point, body.target_level, principal.subject
    )


@router.delete(
    "/{facility_id}/levels/{drug_code}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Go back to levels from average consumption",
)
def clear_levels(facility_id: str, drug_code: str, _: PharmacyCentre, uow: PharmacyUow) -> None:
    if not levels.clear_levels(uow, facility_id, drug_code):
        raise ApiError(404, "not_found", "no levels were set for this item")


@router.get(
    "/balance",
    summary="Where a community has too much or too little of a drug (余缺调度)",
)
def community_balance(
    _: Planner,
    uow: PharmacyUow,
    community_id: str = Query(max_length=64),
    drug_code: str = Query(max_length=64),
) -> dict[str, Any]:
    balances = levels.community_balance(uow, community_id, drug_code)
    return {
        "community_id": community_id,
        "drug_code": drug_code,
        "surplus": [
            {"facility_id": b.facility_id, "available": b.available, "surplus": b.surplus}
            for b in balances
            if b.surplus
        ],
        "need": [
            {"facility_id": b.facility_id, "available": b.available, "need": b.need}
            for b in balances
            if b.need
        ],
    }
