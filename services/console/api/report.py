"""报表: the county report served: every indicator the reporting service computes for the
county, one medical community or one facility (a member's staff: their own facility), over
any months or days asked for, each with a chart and its figures; printable, and exported as
one table."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from libs.platform.auth import Role
from services.console.adapters.exports import Table
from services.console.adapters.services import CallsAs
from services.console.api.deps import (
    ConsoleUowDep,
    FacilityQuery,
    Forbidden,
    PeriodQuery,
    bench,
    calls_as,
    facility_for,
    frame,
)
from services.console.api.exports import exported
from services.console.domain.report_chart import UNITS, chart_of
from services.console.service_layer.sessions import SignedIn

router = APIRouter(prefix="/report", tags=["console report"], include_in_schema=False)

Reader = Annotated[SignedIn, bench("report")]
Kind = Annotated[Literal["month", "day"], Query()]


@dataclass(frozen=True)
class Asked:
    """What a report shows: one facility's, or one medical community's, or (neither) the
    county's, by month or day, between two periods (None: as far as the reporting service
    goes)."""

    facility: str | None
    community: str | None
    kind: str
    start: str | None
    end: str | None

    @property
    def level(self) -> str:
        return "facility" if self.facility else "community" if self.community else "county"

    @property
    def unit(self) -> str | None:
        return self.facility or self.community


def _asked(
    person: Reader,
    period_kind: Kind = "month",
    start: Annotated[PeriodQuery, Query(alias="from")] = None,
    end: Annotated[PeriodQuery, Query(alias="to")] = None,
    facility_id: FacilityQuery = None,
    community_id: FacilityQuery = None,
) -> Asked:
    refusal = "您只能查看本机构的报表"
    # A community chosen: no facility unless one is chosen too (a central account scoped to
    # a facility would otherwise always see its own).
    facility = facility_for(person, facility_id, refusal=refusal, own_by_default=not community_id)
    if community_id and person.role is Role.CLINIC_STAFF:
        raise Forbidden(refusal)
    return Asked(facility, None if facility else community_id, period_kind, start, end)


AskedDep = Annotated[Asked, Depends(_asked)]


def _series(services: CallsAs, code: str, asked: Asked) -> list[dict[str, Any]]:
    found = services.get(
        "reporting", f"/indicators/{code}/series",
        level=asked.level, unit_id=asked.unit,
        period_kind=asked.kind, to=asked.end, limit=1, **{"from": asked.start},
    )  # fmt: skip
    return list(found["items"][0]["points"]) if found["items"] else []


def _sections(
    person: SignedIn, uow: ConsoleUowDep, asked: Asked
) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """Every indicator the level has, with its points (asked side by side)."""
    services = calls_as(uow.config, person)
    level = asked.level
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
        community=asked.community,
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
