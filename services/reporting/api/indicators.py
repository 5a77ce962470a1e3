"""Admin HTTP for the county's indicators.

Any authenticated role may read. Clinic staff see only their own facility's cells and the
aggregates above it (its community and the county).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from libs.events.catalogue.reporting import OrgUnitLevel, PeriodKind
from libs.platform.auth import Principal
from libs.platform.http.dependencies import UnitOfWorkDep
from libs.platform.http.errors import ApiError
from libs.platform.http.pagination import Page, PageDep
from libs.platform.http.security import AnyRole
from services.reporting.api.views import (
    IndicatorView,
    SeriesView,
    ValueView,
    csv_response,
    indicator_view,
    point_view,
    value_view,
)
from services.reporting.domain.cells import Unit
from services.reporting.domain.indicators import INDICATORS, Indicator, UnknownIndicator, indicator
from services.reporting.domain.periods import (
    count_periods,
    parse_period,
    period_of,
    shift_period,
)
from services.reporting.indicators.members import member_counts
from services.reporting.service_layer.queries import (
    Readable,
    current_values,
    readable_units,
    series,
    unit_names,
)
from services.reporting.service_layer.unit_of_work import ReportingUnitOfWork

router = APIRouter(prefix="/indicators", tags=["indicators"])

#: The longest series one request may ask for.
MAX_PERIODS = {PeriodKind.DAY: 366, PeriodKind.MONTH: 120}
#: The default series: the last 30 days, or the last 12 months.
DEFAULT_SPAN = {PeriodKind.DAY: 30, PeriodKind.MONTH: 12}


CSV_TOO: dict[int | str, dict[str, Any]] = {200: {"content": {"text/csv": {}}}}


class Format(StrEnum):
    JSON = "json"
    CSV = "csv"


LevelQuery = Annotated[OrgUnitLevel | None, Query(description="Only this level.")]
UnitQuery = Annotated[str | None, Query(max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:\-]*$")]
KindQuery = Annotated[PeriodKind, Query(description="day or month")]
PeriodQuery = Annotated[str | None, Query(max_length=10, description="YYYY-MM-DD or YYYY-MM")]


def _indicator(code: str) -> Indicator:
    try:
        return indicator(code)
    except UnknownIndicator:
        raise ApiError(404, "not_found", f"no indicator {code!r}") from None


def _reporting(uow: object) -> ReportingUnitOfWork:
    assert isinstance(uow, ReportingUnitOfWork)
    return uow


def _period(text: str | None, kind: PeriodKind, uow: ReportingUnitOfWork, name: str) -> str:
    if text is None:
        return period_of(uow.county.clock.today(), kind)
    try:
        return parse_period(text, kind)
    except ValueError as exc:
        raise ApiError(422, "invalid_period", str(exc), {"field": name}) from None


def _check_level(ind: Indicator, level: OrgUnitLevel | None) -> list[OrgUnitLevel]:
    if level is None:
        return list(ind.levels)
    if not ind.has(level):
        raise ApiError(
            422,
            "level_not_defined",
            f"{ind.code} is defined at {', '.join(lv.value for lv in ind.levels)}, "
            f"not at {level.value}",
        )
    return [level]


def _check_unit(
    uow: ReportingUnitOfWork,
    principal: Principal,
    level: OrgUnitLevel | None,
    unit_id: str | None,
) -> Readable:
    """What the caller may read; 403 for a unit it names but may not read."""
    readable = readable_units(uow.session, principal, uow.county.county_id)
    if unit_id is not None and readable.units is not None:
        levels = [level] if level else list(OrgUnitLevel)
        if not any(readable.allows(Unit(lv, unit_id)) for lv in levels):
            raise ApiError(
                403,
                "forbidden",
                f"this token may not read {unit_id}: only its own facility, "
                "its community and the county",
            )
    return readable


def _range(
    uow: ReportingUnitOfWork, kind: PeriodKind, start: str | None, end: str | None
) -> tuple[str, str]:
    last = _period(end, kind, uow, "to")
    first = (
        shift_period(last, kind, 1 - DEFAULT_SPAN[kind])
        if start is None
        else _period(start, kind, uow, "from")
    )
    if first > last:
        raise ApiError(422, "invalid_range", "from is after to")
    if count_periods(first, last, kind) > MAX_PERIODS[kind]:
        raise ApiError(
            422, "range_too_long", f"at most {MAX_PERIODS[kind]} {kind.value}s per request"
        )
    return first, last


@router.get("", summary="The indicator catalogue")
def catalogue(_: AnyRole, page: PageDep) -> Page[IndicatorView]:
    views = [indicator_view(i) for i in INDICATORS]
    return page.of(views[page.offset : page.offset + page.limit], total=len(views))


@router.get("/member-facilities", summary="Member facilities per community and tier")
def member_facilities(_: AnyRole, uow: UnitOfWorkDep) -> list[dict[str, int | str]]:
    with uow:
        return member_counts(uow.session)


@router.get(
    "/{code}.csv",
    summary="CSV export of an indicator: every readable unit of a level over a range",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
def export_csv(
    code: str,
    principal: AnyRole,
    uow: UnitOfWorkDep,
    level: LevelQuery = None,
    unit_id: UnitQuery = None,
    period_kind: KindQuery = PeriodKind.MONTH,
    from_: Annotated[str | None, Query(alias="from", max_length=10)] = None,
    to: PeriodQuery = None,
) -> Response:
    ind = _indicator(code)
    levels = _check_level(ind, level)
    with _reporting(uow) as work:
        start, end = _range(work, period_kind, from_, to)
        readable = _check_unit(work, principal, level, unit_id)
        rows = [
            point
            for lv in levels
            for unit_series in series(
                work.session, ind, lv, period_kind, start, end, readable=readable, unit_id=unit_id
            )
            for point in unit_series.points
        ]
        names = unit_names(work.session, (r.unit for r in rows), work.county.county_id)
    return csv_response(ind, rows, names)


@router.get(
    "/{code}/series",
    summary="An indicator's time series by unit (``format=csv`` for a CSV download)",
    response_model=Page[SeriesView],
    responses=CSV_TOO,
)
def indicator_series(
    code: str,
    principal: AnyRole,
    uow: UnitOfWorkDep,
    page: PageDep,
    level: Annotated[OrgUnitLevel, Query()] = OrgUnitLevel.COUNTY,
    unit_id: UnitQuery = None,
    period_kind: KindQuery = PeriodKind.MONTH,
    from_: Annotated[str | None, Query(alias="from", max_length=10)] = None,
    to: PeriodQuery = None,
    format: Format = Format.JSON,
) -> Page[SeriesView] | Response:
    ind = _indicator(code)
    _check_level(ind, level)
    with _reporting(uow) as work:
        start, end = _range(work, period_kind, from_, to)
        readable = _check_unit(work, principal, level, unit_id)
        found = series(
            work.session, ind, level, period_kind, start, end, readable=readable, unit_id=unit_id
        )
        if format is Format.CSV:
            rows = [p for s in found for p in s.points]
            names = unit_names(work.session, (s.unit for s in found), work.county.county_id)
            return csv_response(ind, rows, names)
        shown = found[page.offset : page.offset + page.limit]
        names = unit_names(work.session, (s.unit for s in shown), work.county.county_id)
    return page.of(
        [
            SeriesView(
                level=s.unit.level,
                unit_id=s.unit.unit_id,
                unit_name=names[s.unit],
                period_kind=period_kind,
                points=[point_view(p) for p in s.points],
            )
            for s in shown
        ],
        total=len(found),
    )


@router.get(
    "/{code}",
    summary="An indicator's current value by unit (``format=csv`` for a CSV download)",
    response_model=Page[ValueView],
    responses=CSV_TOO,
)
def indicator_values(
    code: str,
    principal: AnyRole,
    uow: UnitOfWorkDep,
    page: PageDep,
    level: LevelQuery = None,
    unit_id: UnitQuery = None,
    period_kind: KindQuery = PeriodKind.MONTH,
    period: PeriodQuery = None,
    format: Format = Format.JSON,
) -> Page[ValueView] | Response:
    ind = _indicator(code)
    levels = _check_level(ind, level)
    with _reporting(uow) as work:
        at = _period(period, period_kind, work, "period")
        readable = _check_unit(work, principal, level, unit_id)
        values = current_values(
            work.session, ind, period_kind, at, levels=levels, readable=readable, unit_id=unit_id
        )
        if format is Format.CSV:
            names = unit_names(work.session, (v.unit for v in values), work.county.county_id)
            return csv_response(ind, values, names)
        shown = values[page.offset : page.offset + page.limit]
        names = unit_names(work.session, (v.unit for v in shown), work.county.county_id)
    return page.of([value_view(v, names) for v in shown], total=len(values))
