"""Admin HTTP for the community's organisation (communities, member facilities)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from libs.events.catalogue.organisation import Department, FacilitySnapshot, OpeningSpan
from libs.events.catalogue.values import FacilityTier, FacilityType
from libs.events.payload import Date, Identifier, Name
from libs.platform.auth import Principal, Role
from libs.platform.http.dependencies import UnitOfWorkDep
from libs.platform.http.errors import ApiError
from libs.platform.http.security import AnyRole, require_roles
from services.administration.adapters.schema import Community, Facility
from services.administration.domain.organisation import ClosureReason, ClosureRefused
from services.administration.service_layer import organisation

router = APIRouter(prefix="/organisation", tags=["organisation"])

CountyAdmin = Annotated[Principal, Depends(require_roles(Role.COUNTY_ADMIN))]


class FacilityChange(BaseModel):
    """A member facility's details as the management centre describes them."""

    model_config = ConfigDict(extra="forbid")

    name: Name
    community_id: Identifier
    tier: FacilityTier
    facility_type: FacilityType
    parent_facility_id: Identifier | None = None
    departments: list[Department] = Field(default_factory=list, max_length=200)
    opening_hours: list[OpeningSpan] = Field(default_factory=list, max_length=6)


class FacilityIn(FacilityChange):
    """A new member facility: its id and its details."""

    facility_id: Identifier


class ClosureIn(BaseModel):
    """A member leaving the community, merging into another, or closing."""

    model_config = ConfigDict(extra="forbid")

    reason: ClosureReason
    closed_on: Date
    merged_into_facility_id: Identifier | None = None


def _view(row: Facility) -> dict[str, Any]:
    return {
        "facility_id": row.facility_id,
        "name": row.name,
        "community_id": row.community_id,
        "county_code": row.county_code,
        "tier": row.tier,
        "facility_type": row.facility_type,
        "parent_facility_id": row.parent_facility_id,
        "departments": row.departments,
        "opening_hours": row.opening_hours or [],
        "active": row.active,
        "closed_on": row.closed_on.isoformat() if row.closed_on else None,
        "closure_reason": row.closure_reason,
        "merged_into_facility_id": row.merged_into_facility_id,
    }


def _county_code(uow: UnitOfWorkDep, community_id: str) -> str:
    with uow:
        community = uow.session.get(Community, community_id)
        if community is None:
            raise ApiError(422, "unknown_community", f"community {community_id} does not exist")
        return community.county_code


@router.get("/communities", summary="The medical communities")
def list_communities(_: AnyRole, uow: UnitOfWorkDep) -> list[dict[str, str]]:
    with uow:
        return [
            {
                "community_id": c.community_id,
                "name": c.name,
                "county_code": c.county_code,
                "lead_facility_id": c.lead_facility_id,
            }
            for c in uow.session.scalars(select(Community).order_by(Community.community_id))
        ]


@router.get("/facilities", summary="The member facilities")
def list_facilities(_: AnyRole, uow: UnitOfWorkDep) -> list[dict[str, Any]]:
    with uow:
        return [
            _view(f) for f in uow.session.scalars(select(Facility).order_by(Facility.facility_id))
        ]


@router.get("/facilities/{facility_id}", summary="One member facility")
def get_facility(facility_id: str, _: AnyRole, uow: UnitOfWorkDep) -> dict[str, Any]:
    with uow:
        row = uow.session.get(Facility, facility_id)
        if row is None:
            raise ApiError(404, "not_found", f"facility {facility_id} does not exist")
        return _view(row)


@router.post(
    "/facilities",
    status_code=status.HTTP_201_CREATED,
    summary="Register a new member facility (announced to every service)",
)
def register_facility(body: FacilityIn, _: CountyAdmin, uow: UnitOfWorkDep) -> dict[str, Any]:
    snapshot = FacilitySnapshot(
        county_code=_county_code(uow, body.community_id), **body.model_dump()
    )
    try:
        event = organisation.register_facility(uow, snapshot)
    except organisation.FacilityAlreadyRegistered as exc:
        raise ApiError(409, "conflict", str(exc)) from None
    except (organisation.UnknownCommunity, organisation.UnknownFacility) as exc:
        raise ApiError(422, "unknown_reference", str(exc)) from None
    return event.model_dump(mode="json")


@router.put("/facilities/{facility_id}", summary="Change a member facility's details")
def update_facility(
    facility_id: str, body: FacilityChange, _: CountyAdmin, uow: UnitOfWorkDep
) -> dict[str, Any]:
    snapshot = FacilitySnapshot(
        facility_id=facility_id,
        county_code=_county_code(uow, body.community_id),
        **body.model_dump(),
    )
    try:
        event = organisation.update_facility(uow, snapshot)
    except organisation.UnknownFacility as exc:
        raise ApiError(404, "not_found", str(exc)) from None
    except organisation.FacilityInactive as exc:
        raise ApiError(409, "conflict", str(exc)) from None
    except organisation.UnknownCommunity as exc:
        raise ApiError(422, "unknown_reference", str(exc)) from None
    return event.model_dump(mode="json")


@router.post(
    "/facilities/{facility_id}/closure",
    summary="A member leaves, merges into another member, or closes (announced)",
)
def close_facility(
    facility_id: str, body: ClosureIn, _: CountyAdmin, uow: UnitOfWorkDep
) -> dict[str, Any]:
    try:
        event = organisation.close_facility(
            uow, facility_id, body.reason, body.closed_on, body.merged_into_facility_id
        )
    except organisation.UnknownFacility as exc:
        raise ApiError(404, "not_found", str(exc)) from None
    except ClosureRefused as exc:
        raise ApiError(409, "conflict", str(exc)) from None
    return event.model_dump(mode="json")


@router.post(
    "/republish",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Announce the whole organisation again (for consumers that lost it)",
)
def republish(_: CountyAdmin, uow: UnitOfWorkDep) -> dict[str, int]:
    return {"facilities": organisation.republish_organisation(uow)}
