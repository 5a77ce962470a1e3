"""What the indicator endpoints return: JSON views and the CSV export."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from decimal import Decimal

from fastapi.responses import Response
from pydantic import BaseModel

from libs.events.catalogue.reporting import OrgUnitLevel, PeriodKind
from libs.events.registry import registry
from services.reporting.domain.cells import Unit
from services.reporting.domain.indicators import Indicator
from services.reporting.service_layer.queries import CellValue

__all__ = [
    "IndicatorView",
    "SeriesView",
    "ValueView",
    "csv_response",
    "indicator_view",
    "value_view",
]


class IndicatorView(BaseModel):
    code: str
    name: str
    name_zh: str
    numerator: str
    denominator: str | None
    factor: int
    unit: str
    levels: list[OrgUnitLevel]
    levels_why: str
    periods: list[PeriodKind]
    behaviour: str
    sources: list[str]
    dated_by: str
    notes: str
    percentile: int | None = None
    """Set for a percentile: the value is the numerator, ranked over the denominator's count."""


class ValueView(BaseModel):
    level: OrgUnitLevel
    unit_id: str
    unit_name: str
    period_kind: PeriodKind
    period: str
    numerator: Decimal
    denominator: Decimal
    value: Decimal | None


class PointView(BaseModel):
    period: str
    numerator: Decimal
    denominator: Decimal
    value: Decimal | None


class SeriesView(BaseModel):
    level: OrgUnitLevel
    unit_id: str
    unit_name: str
    period_kind: PeriodKind
    points: list[PointView]


def indicator_view(ind: Indicator) -> IndicatorView:
    return IndicatorView(
        code=ind.code,
        name=ind.name,
        name_zh=ind.name_zh,
        numerator=ind.numerator,
        denominator=ind.denominator,
        factor=ind.factor,
        unit=ind.unit,
        levels=list(ind.levels),
        levels_why=ind.levels_why,
        periods=list(ind.periods),
        behaviour=ind.behaviour.value,
        sources=[registry.for_payload(source).type for source in ind.sources],
        dated_by=ind.dated_by,
        notes=ind.notes,
        percentile=ind.percentile,
    )


def value_view(value: CellValue, names: dict[Unit, str]) -> ValueView:
    return ValueView(
        level=value.level,
        unit_id=value.unit_id,
        unit_name=names.get(value.unit, value.unit_id),
        period_kind=value.period_kind,
        period=value.period,
        numerator=value.numerator,
        denominator=value.denominator,
        value=value.value,
    )


def point_view(value: CellValue) -> PointView:
    return PointView(
        period=value.period,
        numerator=value.numerator,
        denominator=value.denominator,
        value=value.value,
    )


CSV_COLUMNS = (
    "indicator",
    "level",
    "unit_id",
    "unit_name",
    "period_kind",
    "period",
    "numerator",
    "denominator",
    "factor",
    "value",
)


def csv_response(ind: Indicator, values: Iterable[CellValue], names: dict[Unit, str]) -> Response:
    """The values as a CSV download (one row per unit and period)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for v in values:
        writer.writerow(
            (
                ind.code,
                v.level.value,
                v.unit_id,
                names.get(v.unit, v.unit_id),
                v.period_kind.value,
                v.period,
                v.numerator,
                v.denominator,
                ind.factor,
                "" if v.value is None else v.value,
            )
        )
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{ind.code}.csv"'},
    )
