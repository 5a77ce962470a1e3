"""Reading indicators: current values by unit, time series, who may see which units.

A flow indicator's period without a cell had nothing in it (counts 0, ratios undefined); a
level indicator's period without a cell carries the last level before it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import ColumnElement, Row, and_, func, select
from sqlalchemy.orm import Session

from libs.directory import KnownCommunity, KnownFacility
from libs.events.catalogue.reporting import OrgUnitLevel, PeriodKind
from libs.platform.auth import Principal, Role
from services.reporting.adapters.schema import IndicatorCell
from services.reporting.domain.cells import Unit
from services.reporting.domain.indicators import Behaviour, Indicator
from services.reporting.domain.periods import periods_between

__all__ = [
    "CellValue",
    "Readable",
    "UnitSeries",
    "current_values",
    "readable_units",
    "series",
    "unit_names",
]

ZERO = Decimal(0)
LEVEL_ORDER = {OrgUnitLevel.COUNTY: 0, OrgUnitLevel.COMMUNITY: 1, OrgUnitLevel.FACILITY: 2}


@dataclass(frozen=True)
class CellValue:
    level: OrgUnitLevel
    unit_id: str
    period_kind: PeriodKind
    period: str
    numerator: Decimal
    denominator: Decimal
    value: Decimal | None

    @property
    def unit(self) -> Unit:
        return Unit(self.level, self.unit_id)


@dataclass(frozen=True)
class UnitSeries:
    unit: Unit
    points: list[CellValue]


@dataclass(frozen=True)
class Readable:
    """The units a caller may read: everything, or a clinic's facility and the aggregates
    above it (its community and the county)."""

    units: frozenset[Unit] | None

    def allows(self, unit: Unit) -> bool:
        return self.units is None or unit in self.units


def readable_units(session: Session, principal: Principal, county_id: str) -> Readable:
    if principal.role is not Role.CLINIC_STAFF or principal.facility_id is None:
        return Readable(None)
    units = {
        Unit(OrgUnitLevel.FACILITY, principal.facility_id),
        Unit(OrgUnitLevel.COUNTY, county_id),
    }
    facility = session.get(KnownFacility, principal.facility_id)
    if facility is not None:
        units.add(Unit(OrgUnitLevel.COMMUNITY, facility.community_id))
    return Readable(frozenset(units))


def _value(
    ind: Indicator, kind: PeriodKind, period: str, unit: Unit, num: Decimal, den: Decimal
) -> CellValue:
    return CellValue(unit.level, unit.unit_id, kind, period, num, den, ind.value(num, den))


def current_values(
    session: Session,
    ind: Indicator,
    kind: PeriodKind,
    period: str,
    *,
    levels: Iterable[OrgUnitLevel],
    readable: Readable,
    unit_id: str | None = None,
) -> list[CellValue]:
    """Each unit's value for ``period`` (for a level indicator: its level then)."""
    levels = [lv for lv in levels if ind.has(lv)]
    where = [
        IndicatorCell.indicator == ind.code,
        IndicatorCell.period_kind == kind.value,
        IndicatorCell.level.in_([lv.value for lv in levels]),
    ]
    if unit_id is not None:
        where.append(IndicatorCell.unit_id == unit_id)
    if ind.behaviour is Behaviour.FLOW:
        rows = session.execute(select(*_CELL).where(*where, IndicatorCell.period == period)).all()
    else:
        rows = _latest_levels(session, ind, kind, where, period)
    values = [
        _value(ind, kind, period, Unit(OrgUnitLevel(level), unit), num, den)
        for level, unit, _cell_period, num, den in rows
    ]
    values = [v for v in values if readable.allows(v.unit)]
    return sorted(values, key=lambda v: (LEVEL_ORDER[v.level], v.unit_id))


#: A cell as the readers take it: (level, unit, period, numerator, denominator).
_CELL = (
    IndicatorCell.level,
    IndicatorCell.unit_id,
    IndicatorCell.period,
    IndicatorCell.numerator,
    IndicatorCell.denominator,
)


def _latest_levels(
    session: Session,
    ind: Indicator,
    kind: PeriodKind,
    where: list[ColumnElement[bool]],
    period: str,
) -> Sequence[Row[str, str, str, Decimal, Decimal]]:
    """Each unit's last cell up to ``period``: a level holds until it is measured again."""
    latest = (
        select(
            IndicatorCell.level.label("level"),
            IndicatorCell.unit_id.label("unit_id"),
            func.max(IndicatorCell.period).label("period"),
        )
        .where(*where, IndicatorCell.period <= period)
        .group_by(IndicatorCell.level, IndicatorCell.unit_id)
        .subquery()
    )
    return session.execute(
        select(*_CELL)
        .join(
            latest,
            and_(
                IndicatorCell.level == latest.c.level,
                IndicatorCell.unit_id == latest.c.unit_id,
                IndicatorCell.period == latest.c.period,
            ),
        )
        .where(IndicatorCell.indicator == ind.code, IndicatorCell.period_kind == kind.value)
    ).all()


def series(
    session: Session,
    ind: Indicator,
    level: OrgUnitLevel,
    kind: PeriodKind,
    start: str,
    end: str,
    *,
    readable: Readable,
    unit_id: str | None = None,
) -> list[UnitSeries]:
    """Every period from ``start`` to ``end`` for each unit of ``level`` that has data."""
    where = [
        IndicatorCell.indicator == ind.code,
        IndicatorCell.level == level.value,
        IndicatorCell.period_kind == kind.value,
    ]
    if unit_id is not None:
        where.append(IndicatorCell.unit_id == unit_id)
    cells: dict[str, dict[str, tuple[Decimal, Decimal]]] = {}
    for unit, period, num, den in session.execute(
        select(
            IndicatorCell.unit_id,
            IndicatorCell.period,
            IndicatorCell.numerator,
            IndicatorCell.denominator,
        ).where(*where, IndicatorCell.period >= start, IndicatorCell.period <= end)
    ):
        cells.setdefault(unit, {})[period] = (num, den)
    carried = _levels_before(session, where, start) if ind.behaviour is Behaviour.LEVEL else {}
    periods = list(periods_between(start, end, kind))
    result = []
    for unit in sorted(set(cells) | set(carried)):
        if not readable.allows(Unit(level, unit)):
            continue
        own = cells.get(unit, {})
        current = carried.get(unit, (ZERO, ZERO))
        points = []
        for period in periods:
            if period in own:
                current = own[period]
            elif ind.behaviour is Behaviour.FLOW:
                current = (ZERO, ZERO)
            points.append(_value(ind, kind, period, Unit(level, unit), *current))
        result.append(UnitSeries(Unit(level, unit), points))
    return result


def _levels_before(
    session: Session, where: list[ColumnElement[bool]], start: str
) -> dict[str, tuple[Decimal, Decimal]]:
    """Each unit's last level before ``start``: what a level series begins from until the
    unit's first cell in the range."""
    before = (
        select(IndicatorCell.unit_id, func.max(IndicatorCell.period).label("period"))
        .where(*where, IndicatorCell.period < start)
        .group_by(IndicatorCell.unit_id)
        .subquery()
    )
    carried: dict[str, tuple[Decimal, Decimal]] = {}
    for unit, num, den in session.execute(
        select(IndicatorCell.unit_id, IndicatorCell.numerator, IndicatorCell.denominator)
        .join(
            before,
            and_(
                IndicatorCell.unit_id == before.c.unit_id,
                IndicatorCell.period == before.c.period,
            ),
        )
        .where(*where)
    ):
        carried[unit] = (num, den)
    return carried


def unit_names(session: Session, units: Iterable[Unit], county_id: str) -> dict[Unit, str]:
    """Display names of units (facility and community names from the directory copy)."""
    units = set(units)
    names: dict[Unit, str] = {}
    facilities = [u.unit_id for u in units if u.level is OrgUnitLevel.FACILITY]
    communities = [u.unit_id for u in units if u.level is OrgUnitLevel.COMMUNITY]
    if facilities:
        for fid, name in session.execute(
            select(KnownFacility.facility_id, KnownFacility.name).where(
                KnownFacility.facility_id.in_(facilities)
            )
        ):
            names[Unit(OrgUnitLevel.FACILITY, fid)] = name
    if communities:
        for cid, name in session.execute(
            select(KnownCommunity.community_id, KnownCommunity.name).where(
                KnownCommunity.community_id.in_(communities)
            )
        ):
            names[Unit(OrgUnitLevel.COMMUNITY, cid)] = name
    for unit in units:
        names.setdefault(unit, unit.unit_id)
    return names
