"""Reporting: the county's indicators, as a changelog of their cells.

The reporting service keeps every indicator as cells (indicator × organisation unit ×
period) in its own database. At the end of each consumed batch it publishes the full current
value of every cell the batch touched, keyed by the cell, on a compacted topic: the latest
record per cell is the cell, so a lost database can be rebuilt from the topic and any other
consumer (a provincial platform, a data warehouse) can keep a copy without asking.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field, StringConstraints, model_validator

from libs.events.payload import Code, Identifier, Instant, Money, Payload
from libs.events.registry import event_type

PRODUCER = "reporting"


class OrgUnitLevel(StrEnum):
    """The organisation-unit levels an indicator is computed at (DHIS2's org-unit levels)."""

    FACILITY = "facility"
    COMMUNITY = "community"
    COUNTY = "county"


class PeriodKind(StrEnum):
    """Periods of the county's local calendar."""

    DAY = "day"  # YYYY-MM-DD
    MONTH = "month"  # YYYY-MM


#: ``<indicator>:<level>:<unit>:<period kind>:<period>``, e.g.
#: ``tcm_prescription_share:facility:QS-T01:month:2026-11``.
CellId = Annotated[
    str,
    StringConstraints(
        max_length=200,
        pattern=r"^[a-z0-9_]+:(facility|community|county):[A-Za-z0-9][A-Za-z0-9._:\-]*"
        r":(day|month):[0-9]{4}-[0-9]{2}(-[0-9]{2})?$",
    ),
]
#: A day (``YYYY-MM-DD``) or a month (``YYYY-MM``) of the county's calendar.
PeriodText = Annotated[
    str, StringConstraints(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?$")
]


@event_type("reporting.indicator.updated.v1", key="cell_id", producer=PRODUCER)
class IndicatorCellUpdated(Payload):
    """A cell of an indicator changed; the event carries the cell's full current value.

    A state-transfer event on a compacted topic: the latest record of a cell (the highest
    ``version``) is the cell. The value is ``numerator ÷ denominator × factor`` (or
    ``numerator × factor`` for an indicator without a denominator), with the factor from the
    indicator catalogue (``docs/indicators.md``).
    """

    cell_id: CellId
    indicator: Code
    level: OrgUnitLevel
    unit_id: Identifier
    period_kind: PeriodKind
    period: PeriodText
    numerator: Money
    denominator: Money
    version: int = Field(ge=1, description="Changes of this cell so far; the highest wins.")
    updated_at: Instant

    @model_validator(mode="after")
    def _id_names_the_cell(self) -> IndicatorCellUpdated:
        expected = cell_id(self.indicator, self.level, self.unit_id, self.period_kind, self.period)
        if self.cell_id != expected:
            raise ValueError("cell_id must be <indicator>:<level>:<unit>:<kind>:<period>")
        return self


def cell_id(
    indicator: str, level: OrgUnitLevel, unit_id: str, period_kind: PeriodKind, period: str
) -> str:
    """The id (and record key) of one indicator cell."""
    return f"{indicator}:{level.value}:{unit_id}:{period_kind.value}:{period}"
