"""考核: the members' half-year scorecards (绩效考核) from the administration service: the
committee drafts, recomputes and approves; finance and HR read every member's; a member's
staff read their own scorecard only. Exports as every table."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import RedirectResponse, Response

from libs.platform.auth import Role
from services.console.adapters.exports import Table
from services.console.adapters.services import CallsAs, ServiceRefused
from services.console.api.deps import (
    ConsoleUowDep,
    CsrfField,
    Forbidden,
    bench,
    calls_as,
    check_form,
    frame,
)
from services.console.api.exports import exported
from services.console.domain import appraisal_board as board
from services.console.service_layer.sessions import SignedIn

router = APIRouter(prefix="/appraisal", tags=["console appraisal"], include_in_schema=False)

Reader = Annotated[SignedIn, bench("appraisal")]
Period = Annotated[str | None, Query(pattern=r"^\d{4}-H[12]$")]
STEPS = {"draft": "", "recompute": "/recompute", "approve": "/approve"}


def _appraisal(services: CallsAs, person: SignedIn, period: str) -> dict[str, Any] | None:
    """The period's newest revision (a member's staff: their own scorecard), or None when
    the committee has not drafted it yet."""
    try:
        if person.role is Role.CLINIC_STAFF:
            path = f"/appraisals/{period}/scorecards/{person.facility_id}"
            card = services.get("administration", path)
            return {"period": period, "state": card.get("state"), "scorecards": [card]}
        found: dict[str, Any] = services.get("administration", f"/appraisals/{period}")
        return found
    except ServiceRefused as refused:
        if refused.status == 404:
            return None
        raise


@router.get("")
def appraisal_page(person: Reader, uow: ConsoleUowDep, period: Period = None) -> Response:
    config = uow.config
    periods = board.half_years(config.clock.today())
    chosen = period or periods[0]
    return config.pages.render(
        "appraisal.html",
        **frame(uow, person, "appraisal"),
        periods=periods,
        period=chosen,
        appraisal=_appraisal(calls_as(config, person), person, chosen),
        board=board,
        committee=person.role is Role.COUNTY_ADMIN,
    )


@router.post("/{period}/{step}")
def take_step(
    period: Annotated[str, Path(pattern=r"^\d{4}-H[12]$")],
    step: str,
    person: Reader,
    uow: ConsoleUowDep,
    csrf_token: CsrfField,
) -> Response:
    check_form(person, csrf_token)
    if step not in STEPS or person.role is not Role.COUNTY_ADMIN:
        raise Forbidden("只有医共体管理中心可以起草、重算或批准考核")
    calls_as(uow.config, person).post("administration", f"/appraisals/{period}{STEPS[step]}")
    return RedirectResponse(f"/appraisal?period={period}", status_code=303)


@router.get("/{period}/scorecards.{fmt}")
def export(
    period: Annotated[str, Path(pattern=r"^\d{4}-H[12]$")], person: Reader, uow: ConsoleUowDep,
    fmt: str,
) -> Response:  # fmt: skip
    found = _appraisal(calls_as(uow.config, person), person, period)
    if found is None:
        raise Forbidden("该半年度尚未起草考核")
    rows = [
        (c["facility_id"], c["name"], line["dimension_name"], line["name"], line["figure"] or "",
         line["weight"], line["score"], c["total"])
        for c in found["scorecards"] for line in c["lines"]
    ]  # fmt: skip
    headers = ("机构编码", "机构", "维度", "指标", "指标值", "权重", "得分", "总分")
    return exported(Table(f"{period} 绩效考核", headers, rows), fmt, f"appraisal-{period}")
