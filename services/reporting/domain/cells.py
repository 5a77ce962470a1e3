"""Indicator cells and the changes events make to them.

A cell is one indicator at one organisation unit for one period, holding a numerator and a
denominator (DHIS2's aggregate data values). Handlers do not write cells: they describe
changes, which the unit of work applies together at the end of a batch.

- :class:`Add` — a flow indicator: add to a cell's numerator and denominator;
- :class:`Open` — a flow cell whose denominator is fixed when the cell is first created
  (a budget's allowance for a period) and added once to its parent cells;
- :class:`Shift` — a level indicator: a unit's level moves by ``delta`` from a day on;
- :class:`Reset` — a level indicator: a facility's level becomes ``value`` on a day (unless
  a later day is already known) and its parents follow by the difference;
- :class:`Rank` — a percentile indicator: rank the cell again from the durations kept for
  it (the unit of work turns it into a :class:`Put` when the batch commits);
- :class:`Put` — a cell becomes exactly ``numerator`` and ``denominator``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from libs.events.catalogue.reporting import OrgUnitLevel, PeriodKind, cell_id
from libs.events.catalogue.values import FacilityTier

__all__ = [
    "Add",
    "CellKey",
    "Change",
    "Member",
    "Open",
    "Place",
    "Put",
    "Rank",
    "Reset",
    "Shift",
    "Unit",
]

ZERO = Decimal(0)


@dataclass(frozen=True, order=True)
class Unit:
    """An organisation unit: a facility, a community or the county."""

    level: OrgUnitLevel
    unit_id: str


@dataclass(frozen=True, order=True)
class CellKey:
    indicator: str
    level: OrgUnitLevel
    unit_id: str
    period_kind: PeriodKind
    period: str

    @property
    def cell_id(self) -> str:
        return cell_id(self.indicator, self.level, self.unit_id, self.period_kind, self.period)

    @property
    def unit(self) -> Unit:
        return Unit(self.level, self.unit_id)


@dataclass(frozen=True)
class Member:
    """A member facility as the organisation defines it (the service's directory copy)."""

    facility_id: str
    community_id: str
    tier: FacilityTier


@dataclass(frozen=True)
class Place:
    """Where something happened: always the county, and a community and facility when known."""

    county_id: str
    community_id: str | None = None
    facility_id: str | None = None

    @classmethod
    def of(cls, member: Member, county_id: str) -> Place:
        return cls(county_id, member.community_id, member.facility_id)

    def units(self, levels: Iterable[OrgUnitLevel]) -> list[Unit]:
        """The units of this place at ``levels`` (those this place has)."""
        ids = {
            OrgUnitLevel.FACILITY: self.facility_id,
            OrgUnitLevel.COMMUNITY: self.community_id,
            OrgUnitLevel.COUNTY: self.county_id,
        }
        units = []
        for level in levels:
            unit_id = ids[level]
            if unit_id is not None:
                units.append(Unit(level, unit_id))
        return units


@dataclass(frozen=True)
class Add:
    key: CellKey
    numerator: Decimal
    denominator: Decimal = ZERO


@dataclass(frozen=True)
class Open:
    key: CellKey
    denominator: Decimal
    parents: tuple[CellKey, ...] = ()


@dataclass(frozen=True)
class Shift:
    indicator: str
    unit: Unit
    day: date
    delta: Decimal


@dataclass(frozen=True)
class Reset:
    indicator: str
    unit: Unit
    parents: tuple[Unit, ...]
    day: date
    value: Decimal


@dataclass(frozen=True)
class Rank:
    key: CellKey


@dataclass(frozen=True)
class Put:
    key: CellKey
    numerator: Decimal
    denominator: Decimal


Change = Add | Open | Shift | Reset | Rank | Put
