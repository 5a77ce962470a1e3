"""What an indicator is (DHIS2's model: numerator, denominator, factor, period,
organisation unit); the definitions themselves are in :mod:`indicators` and :mod:`systems`."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from libs.events.catalogue.reporting import OrgUnitLevel, PeriodKind
from libs.events.payload import Payload

__all__ = [
    "ALL_LEVELS",
    "BOTH_PERIODS",
    "COMMUNITY",
    "COUNTY",
    "FACILITY",
    "FACILITY_ROLLUP",
    "Behaviour",
    "Indicator",
    "UnknownIndicator",
]

FACILITY, COMMUNITY, COUNTY = OrgUnitLevel.FACILITY, OrgUnitLevel.COMMUNITY, OrgUnitLevel.COUNTY
ALL_LEVELS = (FACILITY, COMMUNITY, COUNTY)
BOTH_PERIODS = (PeriodKind.DAY, PeriodKind.MONTH)


class Behaviour(StrEnum):
    """How a cell's value relates to its period."""

    FLOW = "flow"
    """What happened in the period: events dated in it are summed. A period without a cell
    had nothing (its counts are 0)."""
    LEVEL = "level"
    """How things stood at the end of the period (the last change dated in it). A period
    without a cell carries the level of the last period before it that has one."""


@dataclass(frozen=True)
class Indicator:
    code: str
    name: str
    name_zh: str
    numerator: str
    denominator: str | None
    """None: the indicator is a count or an amount (value = numerator × factor)."""
    factor: int
    unit: str
    levels: tuple[OrgUnitLevel, ...]
    levels_why: str
    sources: tuple[type[Payload], ...]
    dated_by: str
    behaviour: Behaviour = Behaviour.FLOW
    periods: tuple[PeriodKind, ...] = BOTH_PERIODS
    decimals: int = 2
    notes: str = ""
    percentile: int | None = None
    """Set: the indicator is that percentile of durations, which do not add up level by
    level; a cell holds the percentile (nearest rank) as its numerator and the number of
    durations ranked as its denominator, recomputed from the durations kept for it."""

    def value(self, numerator: Decimal, denominator: Decimal) -> Decimal | None:
        """The indicator's value for a cell; ``None`` when its denominator is zero."""
        if self.percentile is not None:
            if denominator == 0:
                return None  # nothing ranked
            raw = numerator * self.factor
        elif self.denominator is None:
            raw = numerator * self.factor
        elif denominator == 0:
            return None
        else:
            raw = numerator * self.factor / denominator
        return raw.quantize(Decimal(1).scaleb(-self.decimals))

    def has(self, level: OrgUnitLevel) -> bool:
        return level in self.levels


class UnknownIndicator(LookupError):
    pass


FACILITY_ROLLUP = (
    "Each member facility, rolled up to its community and the county: numerator and "
    "denominator add up level by level."
)
