"""报表: the county report served: every indicator the reporting service computes for the
county (or, for a member's staff, their own facility), over any months or days asked for,
each with a chart and its figures; printable, and exported as one table."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
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


def _series(
    services: CallsAs, code: str, facility: str | None, kind: str, start: str | None,
    end: str | None,
) -> list[dict[str, Any]]:  # fmt: skip
    found = services.get(
        "reporting", f"/indicators/{code}/series", level="facility" if facility else "county",
        unit_id=facility, period_kind=kind, to=end, limit=1, **{"from": start},
    )  # fmt: skip
    return list(found["items"][0]["points"]) if found["items"] else []


def _sections(
    person: SignedIn, uow: ConsoleUowDep, facility: str | None, kind: str,
    start: str | None, end: str | None,
) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:  # fmt: skip
    """Every indicator the level has, with its points (asked side by side)."""
    services = calls_as(uow.config, person)
    level = "facility" if facility else "county"
    catalogue = services.get("reporting", "/indicators", limit=500)["items"]
    wanted = [i for i in catalogue if level in i["levels"]]
    with ThreadPoolExecutor(max_workers=8) as pool:
        found = pool.map(lambda i: _series(services, i["code"], facility, kind, start, end), wanted)
        return list(zip(wanted, found, strict=True))


def _facility(person: SignedIn, wanted: str | None) -> str | None:
    return facility_for(person, wanted, refusal="您只能查看本机构的报表")


@router.get("")
def report_page(
    person: Reader,
    uow: ConsoleUowDep,
    period_kind: Kind = "month",
    start: Annotated[PeriodText, Query(alias="from")] = None,
    end: Annotated[PeriodText, Query(alias="to")] = None,
    facility_id: FacilityQuery = None,
) -> Response:
    facility = _facility(person, facility_id)
    sections = _sections(person, uow, facility, period_kind, start, end)
    return uow.config.pages.render(
        "report.html",
        **frame(uow, person, "report"),
        facility=facility,
        period_kind=period_kind,
        start=start or "",
        end=end or "",
        sections=[(i, points, chart_of(points)) for i, points in sections],
        units=UNITS,
    )


@router.get("/export.{fmt}")
def export_report(
    person: Reader,
    uow: ConsoleUowDep,
    fmt: str,
    period_kind: Kind = "month",
    start: Annotated[PeriodText, Query(alias="from")] = None,
    end: Annotated[PeriodText, Query(alias="to")] = None,
    facility_id: FacilityQuery = None,
) -> Response:
    facility = _facility(person, facility_id)
    rows = [
        (i["name_zh"], UNITS.get(i["unit"], i["unit"]), p["period"], Decimal(str(p["numerator"])),
         Decimal(str(p["denominator"])),
         Decimal(str(p["value"])) if p["value"] is not None else "")
        for i, points in _sections(person, uow, facility, period_kind, start, end)
        for p in points
    ]  # fmt: skip
    headers = ("指标", "单位", "期间", "分子", "分母", "指标值")
    return exported(Table("县域指标", headers, rows), fmt, "county-report")
