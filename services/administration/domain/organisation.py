"""The community's organisation as configured, and what changed against what was published.

Pure domain: no database, no Kafka. The administration service owns the organisation (the
management committee's register of communities, facilities and departments) and publishes it
for every other service; members join, change (rename, tier, departments, opening hours),
leave, or merge into another member.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from libs.events.catalogue.organisation import (
    CommunityRegistered,
    Department,
    FacilityRegistered,
    FacilitySnapshot,
    FacilityUpdated,
)

__all__ = [
    "ClosureReason",
    "ClosureRefused",
    "CountyConfig",
    "FacilityChange",
    "changes_to_publish",
    "check_closure",
    "parse_county",
]


@dataclass(frozen=True)
class CountyConfig:
    county_code: str
    county_name: str
    communities: list[CommunityRegistered]
    facilities: list[FacilitySnapshot]


def parse_county(doc: dict[str, Any]) -> CountyConfig:
    """Validate a county configuration document (``infra/county/*.yaml``)."""
    county = doc["county"]
    code = str(county["code"])
    communities = [CommunityRegistered(county_code=code, **c) for c in doc.get("communities", [])]
    facilities = []
    for item in doc.get("facilities", []):
        departments = [Department(**d) for d in item.get("departments", [])]
        fields = {k: v for k, v in item.items() if k != "departments"}
        facilities.append(FacilitySnapshot(county_code=code, departments=departments, **fields))
    ids = [f.facility_id for f in facilities]
    if len(ids) != len(set(ids)):
        raise ValueError("a facility id appears twice in the county configuration")
    known_communities = {c.community_id for c in communities}
    for facility in facilities:
        if facility.community_id not in known_communities:
            raise ValueError(f"{facility.facility_id}: unknown community {facility.community_id}")
        if facility.parent_facility_id and facility.parent_facility_id not in ids:
            raise ValueError(
                f"{facility.facility_id}: unknown parent {facility.parent_facility_id}"
            )
    for community in communities:
        if community.lead_facility_id not in ids:
            raise ValueError(f"{community.community_id}: unknown lead {community.lead_facility_id}")
    return CountyConfig(code, str(county.get("name", code)), communities, facilities)


@dataclass(frozen=True)
class FacilityChange:
    snapshot: FacilitySnapshot
    new: bool

    def event(self) -> FacilityRegistered | FacilityUpdated:
        fields = self.snapshot.model_dump()
        return FacilityRegistered(**fields) if self.new else FacilityUpdated(**fields)


def changes_to_publish(
    published: dict[str, FacilitySnapshot], desired: list[FacilitySnapshot]
) -> list[FacilityChange]:
    """Facilities that are new or differ from what was last published, in config order.

    A facility missing from the configuration is left alone: members added through the admin
    API are not closed by a configuration that predates them.
    """
    changes = []
    for snapshot in desired:
        before = published.get(snapshot.facility_id)
        if before is None:
            changes.append(FacilityChange(snapshot, new=True))
        elif before != snapshot:
            changes.append(FacilityChange(snapshot, new=False))
    return changes


class ClosureReason(StrEnum):
    LEFT = "left"  # left the community (退出医共体)
    MERGED = "merged"  # merged into another member (合并)
    CLOSED = "closed"  # ceased to operate (撤销)


class ClosureRefused(ValueError):
    """A closure the organisation's rules do not allow."""


def check_closure(
    facility_id: str,
    reason: ClosureReason,
    merged_into: str | None,
    *,
    active: set[str],
    leads: set[str],
) -> None:
    """Refuse a closure that would leave the organisation inconsistent.

    A community's lead hospital cannot go while it leads (name another lead first); a
    merger names the active member that takes over, and only a merger names one.
    """
    if facility_id not in active:
        raise ClosureRefused(f"facility {facility_id} is not an active member")
    if facility_id in leads:
        raise ClosureRefused(f"facility {facility_id} leads a community and cannot close")
    if reason is ClosureReason.MERGED:
        if merged_into is None or merged_into == facility_id or merged_into not in active:
            raise ClosureRefused("a merger names another active member that takes over")
    elif merged_into is not None:
        raise ClosureRefused("only a merger names the member that takes over")
