"""The staffing service's local policy, as configured in ``infra/staffing/rules.yaml``.

Session times, where sessions may be held, who counts as a specialist, and the community's
coverage rules with their values. Validated once at start: a typo in the file stops the
service with a message naming the field, rather than planning by a wrong rule.
"""

from __future__ import annotations

from datetime import time
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from libs.events.catalogue.values import FacilityType, HalfDay, StaffTitle

__all__ = [
    "AverageDays",
    "CoverageRule",
    "HalfDayTimes",
    "MinDaysPerStaff",
    "MinStationed",
    "SpecialistScope",
    "StaffingPolicy",
    "parse_policy",
]

Days = Annotated[Decimal, Field(ge=0, le=7, max_digits=4, decimal_places=2)]


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HalfDayTimes(_Config):
    """How a half-day session is shown: 上午 08:00–12:00."""

    label: str = Field(min_length=1, max_length=20)
    start: time
    end: time

    @model_validator(mode="after")
    def _ordered(self) -> HalfDayTimes:
        if self.end <= self.start:
            raise ValueError(f"{self.label}: a session ends after it starts")
        return self


class SpecialistScope(_Config):
    """The physicians the lead hospitals send down."""

    home_facility_types: frozenset[FacilityType]
    titles: frozenset[StaffTitle]


class _Rule(_Config):
    rule_id: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")
    description: str = Field(min_length=1, max_length=500)


class MinDaysPerStaff(_Rule):
    """Each specialist of ``titles`` spends ``min_days`` a week or more at ``at_facility_types``."""

    kind: Literal["min_days_per_staff"]
    titles: frozenset[StaffTitle]
    at_facility_types: frozenset[FacilityType]
    min_days: Days


class AverageDays(_Rule):
    """Specialists of ``titles`` average ``target_days`` a week at ``at_facility_types``
    (per community), within ``tolerance_days``."""

    kind: Literal["average_days"]
    titles: frozenset[StaffTitle]
    at_facility_types: frozenset[FacilityType]
    target_days: Days
    tolerance_days: Days = Decimal(0)

    @property
    def threshold(self) -> Decimal:
        return max(Decimal(0), self.target_days - self.tolerance_days)


class MinStationed(_Rule):
    """Each facility of ``facility_types`` has ``min_physicians`` stationed there, counting only
    stationings planned for ``min_months`` or more."""

    kind: Literal["min_stationed"]
    facility_types: frozenset[FacilityType]
    min_physicians: int = Field(ge=1, le=100)
    min_months: int = Field(ge=0, le=120)


CoverageRule = Annotated[MinDaysPerStaff | AverageDays | MinStationed, Field(discriminator="kind")]


class StaffingPolicy(_Config):
    half_days: dict[HalfDay, HalfDayTimes]
    host_facility_types: frozenset[FacilityType]
    specialists: SpecialistScope
    max_rotation_days: int = Field(ge=7, le=3660)
    half_days_per_day: int = Field(ge=1, le=2)
    coverage: tuple[CoverageRule, ...] = ()

    @model_validator(mode="after")
    def _complete(self) -> StaffingPolicy:
        missing = set(HalfDay) - set(self.half_days)
        if missing:
            raise ValueError(f"half_days needs times for {', '.join(sorted(missing))}")
        ids = [rule.rule_id for rule in self.coverage]
        if len(ids) != len(set(ids)):
            raise ValueError("a coverage rule_id appears twice")
        return self

    def times(self, half_day: HalfDay) -> HalfDayTimes:
        return self.half_days[half_day]


def parse_policy(doc: dict[str, Any]) -> StaffingPolicy:
    """Validate a policy document (``infra/staffing/rules.yaml``)."""
    return StaffingPolicy.model_validate(doc)
