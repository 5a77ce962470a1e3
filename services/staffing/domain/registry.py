"""The staff registry (as in iHRIS: people, their posts, and positions that may be vacant).

A member of staff has a home facility, a department there, a title (主任医师 chief, 副主任医师
associate chief, 主治医师 attending, 住院医师 resident), a specialty and an active period. A
position is a post in a facility's establishment; it is vacant while no active member of
staff holds it. Pure domain: no database, no Kafka.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from libs.events.catalogue.staffing import StaffSnapshot
from libs.events.catalogue.values import StaffTitle
from libs.events.payload import Identifier, Name

__all__ = [
    "TITLE_LABELS",
    "TITLE_RANK",
    "PositionSpec",
    "StaffSeed",
    "changed_staff",
    "is_active",
    "parse_staff_seed",
]

#: Seniority, lowest first: 住院 < 主治 < 副高 < 正高.
TITLE_RANK = {
    StaffTitle.RESIDENT: 0,
    StaffTitle.ATTENDING: 1,
    StaffTitle.ASSOCIATE_CHIEF: 2,
    StaffTitle.CHIEF: 3,
}

#: How residents read a title on the timetable.
TITLE_LABELS = {
    StaffTitle.CHIEF: "主任医师",
    StaffTitle.ASSOCIATE_CHIEF: "副主任医师",
    StaffTitle.ATTENDING: "主治医师",
    StaffTitle.RESIDENT: "住院医师",
}


class PositionSpec(BaseModel):
    """A post in a facility's establishment (编制岗位)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    position_id: Identifier
    facility_id: Identifier
    department_id: Identifier | None = None
    title: StaffTitle
    specialty: Name | None = None


class _SeedStaff(StaffSnapshot):
    position_id: Identifier | None = None


@dataclass(frozen=True)
class StaffSeed:
    """The seed staff list: snapshots to publish and the positions they hold."""

    staff: list[StaffSnapshot]
    positions: list[PositionSpec]
    holders: dict[str, str]
    """staff_id → position_id."""


def parse_staff_seed(doc: dict[str, Any]) -> StaffSeed:
    """Validate a seed staff document (``infra/staffing/seed-staff.yaml``).

    Checks what the document alone can tell: unique ids, and that a position is held by one
    person of its own facility. Whether the facilities exist is checked against the
    organisation when the seed is loaded.
    """
    try:
        positions = [PositionSpec.model_validate(p) for p in doc.get("positions", [])]
        entries = [_SeedStaff.model_validate(s) for s in doc.get("staff", [])]
    except ValidationError as exc:
        raise ValueError(f"seed staff: {exc}") from None
    _unique("position", [p.position_id for p in positions])
    _unique("staff", [s.staff_id for s in entries])
    by_id = {p.position_id: p for p in positions}
    holders: dict[str, str] = {}
    for entry in entries:
        if entry.position_id is None:
            continue
        position = by_id.get(entry.position_id)
        if position is None:
            raise ValueError(f"{entry.staff_id}: unknown position {entry.position_id}")
        if position.facility_id != entry.home_facility_id:
            raise ValueError(
                f"{entry.staff_id}: position {entry.position_id} is at another facility"
            )
        if entry.position_id in holders.values():
            raise ValueError(f"position {entry.position_id} is held twice")
        holders[entry.staff_id] = entry.position_id
    staff = [StaffSnapshot(**entry.model_dump(exclude={"position_id"})) for entry in entries]
    return StaffSeed(staff=staff, positions=positions, holders=holders)


def _unique(what: str, ids: list[str]) -> None:
    seen: set[str] = set()
    for item in ids:
        if item in seen:
            raise ValueError(f"{what} id {item} appears twice in the seed staff list")
        seen.add(item)


def changed_staff(
    published: dict[str, StaffSnapshot], desired: list[StaffSnapshot]
) -> list[tuple[StaffSnapshot, bool]]:
    """``(snapshot, new)`` for staff that are new or differ from what was last published.

    Staff missing from the seed are left alone: people registered through the admin API are
    not removed by a seed list that predates them.
    """
    changes = []
    for snapshot in desired:
        before = published.get(snapshot.staff_id)
        if before is None or before != snapshot:
            changes.append((snapshot, before is None))
    return changes


def is_active(active_from: date, active_until: date | None, on: date) -> bool:
    """Whether someone with this active period works on ``on``."""
    return active_from <= on and (active_until is None or on <= active_until)
