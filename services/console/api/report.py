"""报表: the county report served: every indicator the reporting service computes for the
county (or, for a member's staff, their own facility), over any months or days asked for,
each with a chart and its figures; printable, and exported as one table."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from services.console.adapters.exports import Table
from services.console.adapters.services import CallsAs
from services.console.api.deps import ConsoleUowDep, bench, calls_as, facility_for, frame
from services.console.api.exports import exported
from services.console.domain.report_chart import UNITS, chart_of
from services.console.service_layer.sessions import SignedIn

router = APIRouter(prefix="/report", tags=["console report"], include_in_schema=False)

Reader = Annotated[SignedIn, bench("report")]
FacilityQuery = Annotated[str | None, Query(max_length=64, pattern=r"^[A-Za-z0-9._-]+$")]
Kind = Annotated[Literal["month", "day"], Query()]
PeriodText = Annotated[str | None, Query(max_length=10, pattern=r"^\d{4}-\d{2}(-\d{2})?$")]


@dataclass(frozen=True)
class Asked:
    """What a report shows: one facility's (None: the county's), by month or day, between
    two periods (None: as far as the reporting service goes)."""

    facility: str | None
    kind: str
    start: str | None
    end: str | None


def _asked(
    person: Reader,
    period_kind: Kind = "month",
    start: Annotated[PeriodText, Query(alias="from")] = None,
    end: Annotated[PeriodText, Query(alias="to")] = None,
    facility_id: FacilityQuery = None,
) -> Asked:
    facility = facility_for(person, facility_id, refusal="您只能查看本机构的报表")
    return Asked(facility, period_kind, start, end)


AskedDep = Annotated[Asked, Depends(_asked)]


def _series(services: CallsAs, code: str, asked: Asked) -> list[dict[str, Any]]:
    found = services.get(
        "reporting", f"/indicators/{code}/series",
        level="facility" if asked.facility else "county", unit_id=asked.facility,
        period_kind=asked.kind, to=asked.end, limit=1, **{"from": asked.start},
    )  # fmt: skip
    return list(found["items"][0]["points"]) if found["items"] else []


def _sections(
    person: SignedIn, uow: ConsoleUowDep, asked: Asked
) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """Every indicator the level has, with its points (asked side by side)."""
    services = calls_as(uow.config, person)
    level = "facility" if asked.facility else "county"
    catalogue = services.get("reporting", "/indicators", limit=500)["items"]
    wanted = [i for i in catalogue if level in i["levels"]]
    with ThreadPoolExecutor(max_workers=8) as pool:
        found = pool.map(lambda i: _series(services, i["code"], asked), wanted)
        return list(zip(wanted, found, strict=True))


@router.get("")
def report_page(person: Reader, uow: ConsoleUowDep, asked: AskedDep) -> Response:
    sections = _sections(person, uow, asked)
    return uow.config.pages.render(
        "report.html",
        **frame(uow, person, "report"),
        facility=asked.facility,
        period_kind=asked.kind,
        start=asked.start or "",
        end=asked.end or "",
        sections=[(i, points, chart_of(points)) for i, points in sections],
        units=UNITS,
    )


@router.get("/export.{fmt}")
def export_report(person: Reader, uow: ConsoleUowDep, asked: AskedDep, fmt: str) -> Response:
    rows = [
        (i["name_zh"], UNITS.get(i["unit"], i["unit"]), p["period"], Decimal(str(p["numerator"])),
         Decimal(str(p["denominator"])),
         Decimal(str(p["value"])) if p["value"] is not None else "")
        for i, points in _sections(person, uow, asked)
        for p in points
    ]  # fmt: skip
    headers = ("指标", "单位", "期间", "分子", "分母", "指标值")
    return exported(Table("县域指标", headers, rows), fmt, "county-report")
