"""Organisation master data (行政一体化): communities, member facilities, departments.

Defined once in the county configuration under ``infra/county/`` and published by its owner,
the administration service (行政一体化); every other service keeps its own copy from these
events. Facility events are full snapshots so a consumer never needs the previous state.

Until administration existed the staffing service published them: its records on the topics
stay believed (``former_producers``), the topics and fields are unchanged.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from libs.events.catalogue.values import FacilityTier, FacilityType
from libs.events.payload import Code, Date, Identifier, Instant, Name, Payload
from libs.events.registry import event_type

PRODUCER = "administration"
FORMER = ("staffing",)

#: A span of local opening time, ``HH:MM-HH:MM`` (``00:00-24:00``: around the clock).
OpeningSpan = Annotated[
    str,
    StringConstraints(
        pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]-(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$"
    ),
]


@event_type(
    "organisation.community.registered.v1",
    key="community_id",
    producer=PRODUCER,
    former_producers=FORMER,
)
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
    opening_hours: list[OpeningSpan] = Field(
        default_factory=list,
        max_length=6,
        description="When the facility receives patients (county time); empty: not stated.",
    )


@event_type(
    "organisation.facility.registered.v1",
    key="facility_id",
    producer=PRODUCER,
    former_producers=FORMER,
)
class FacilityRegistered(FacilitySnapshot):
    """A member facility joined the community (full snapshot)."""


@event_type(
    "organisation.facility.updated.v1",
    key="facility_id",
    producer=PRODUCER,
    former_producers=FORMER,
)
class FacilityUpdated(FacilitySnapshot):
    """A member facility's details changed (full snapshot after the change)."""


@event_type(
    "organisation.facility.closed.v1", key="facility_id", producer=PRODUCER, former_producers=FORMER
)
class FacilityClosed(Payload):
    """A member facility left the community, merged into another or closed; its history stays."""

    facility_id: Identifier
    closed_on: Date
    reason: Code = Field(description="left, merged or closed.")
    closed_at: Instant
    merged_into_facility_id: Identifier | None = Field(
        default=None, description="The member that took it over (reason merged)."
    )
