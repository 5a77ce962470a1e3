"""Organisation master data (行政一体化): communities, member facilities, departments.

Defined once in the county configuration under ``infra/county/`` and published by its owner,
the staffing service; every other service keeps its own copy from these events. Facility
events are full snapshots so a consumer never needs the previous state.
"""

from __future__ import annotations

from pydantic import Field

from libs.events.catalogue.values import FacilityTier, FacilityType
from libs.events.payload import Code, Date, Identifier, Instant, Name, Payload
from libs.events.registry import event_type

PRODUCER = "staffing"


@event_type("organisation.community.registered.v1", key="community_id", producer=PRODUCER)
class CommunityRegistered(Payload):
    """A medical community (医共体) exists, led by one lead hospital."""

    community_id: Identifier
    name: Name
    county_code: Code
    lead_facility_id: Identifier


class Department(Payload):
    department_id: Identifier
    name: Name
    specialty: Name | None = None


class FacilitySnapshot(Payload):
    facility_id: Identifier
    name: Name
    community_id: Identifier
    county_code: Code
    tier: FacilityTier
    facility_type: FacilityType
    parent_facility_id: Identifier | None = Field(
        default=None, description="The township centre a village clinic belongs to."
    )
    departments: list[Department] = Field(default_factory=list, max_length=200)


@event_type("organisation.facility.registered.v1", key="facility_id", producer=PRODUCER)
class FacilityRegistered(FacilitySnapshot):
    """A member facility joined the community (full snapshot)."""


@event_type("organisation.facility.updated.v1", key="facility_id", producer=PRODUCER)
class FacilityUpdated(FacilitySnapshot):
    """A member facility's details changed (full snapshot after the change)."""


@event_type("organisation.facility.closed.v1", key="facility_id", producer=PRODUCER)
class FacilityClosed(Payload):
    """A member facility left the community or closed; its history stays."""

    facility_id: Identifier
    closed_on: Date
    reason: Code
    closed_at: Instant
