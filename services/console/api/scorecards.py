"""考核 · 单位评分卡: one member's half-year scorecard with its indicators, the committee's
comments and adjustments and the appraisal's trail. While the half-year is a draft the
committee (the management centre) comments on and adjusts a member's total, saying why, and
the member's own staff comment on theirs; an approved half-year is corrected by a new
revision. The administration service decides each (caps, reasons, states) and keeps the
trail."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path
from fastapi.responses import RedirectResponse, Response

from libs.platform.auth import Role
from services.console.adapters.services import CallsAs
from services.console.api.deps import (
    ConsoleUowDep,
    CsrfField,
    Forbidden,
    Unfit,
    bench,
    calls_as,
    check_form,
    frame,
)
from services.console.domain import appraisal_board as board
from services.console.service_layer.sessions import SignedIn

router = APIRouter(prefix="/appraisal", tags=["console scorecards"], include_in_schema=False)

Reader = Annotated[SignedIn, bench("appraisal")]
HalfYear = Annotated[str, Path(pattern=r"^\d{4}-H[12]$")]
Member = Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9._-]+$")]
Reason = Annotated[str, Form(max_length=2000)]


def _own(person: SignedIn, facility_id: str) -> None:
    """A member's staff open their own scorecard only (by the link and by the URL)."""
    if person.role is Role.CLINIC_STAFF and person.facility_id != facility_id:
        raise Forbidden("您只能查看本机构的评分卡")


def _trail(services: CallsAs, person: SignedIn, period: str, facility_id: str) -> list[Any]:
    """The appraisal's notes on this member (the overseers' reading; a member's staff are
    shown their scorecard and may comment, not the committee's trail)."""
    if person.role is Role.CLINIC_STAFF:
        return []
    notes = services.get("administration", f"/appraisals/{period}/notes")
    return [n for n in reversed(notes) if n["facility_id"] in (facility_id, None)]


@router.get("/{period}/members/{facility_id}")
def scorecard_page(
    person: Reader, uow: ConsoleUowDep, period: HalfYear, facility_id: Member
) -> Response:
    _own(person, facility_id)
    services = calls_as(uow.config, person)
    card = services.get("administration", f"/appraisals/{period}/scorecards/{facility_id}")
    return uow.config.pages.render(
        "scorecard.html",
        **frame(uow, person, "appraisal"),
        period=period,
        card=card,
        draft=card.get("state") == "draft",
        trail=_trail(services, person, period, facility_id),
        committee=person.role is Role.COUNTY_ADMIN,
        comments=person.role in (Role.COUNTY_ADMIN, Role.CLINIC_STAFF),
        board=board,
    )


@router.post("/{period}/members/{facility_id}/comments")
def comment(
    person: Reader,
    uow: ConsoleUowDep,
    period: HalfYear,
    facility_id: Member,
    csrf_token: CsrfField,
    text: Reason,
) -> Response:
    check_form(person, csrf_token)
    _own(person, facility_id)
    if not text.strip():
        raise Unfit("请填写意见内容")
    path = f"/appraisals/{period}/scorecards/{facility_id}/comments"
    calls_as(uow.config, person).post("administration", path, {"text": text.strip()})
    return RedirectResponse(f"/appraisal/{period}/members/{facility_id}", status_code=303)


@router.post("/{period}/members/{facility_id}/adjustment")
def adjust(
    person: Reader,
    uow: ConsoleUowDep,
    period: HalfYear,
    facility_id: Member,
    csrf_token: CsrfField,
    points: Annotated[str, Form(max_length=10)],
    reason: Reason,
) -> Response:
    """The committee moves a member's total (the county's cap applies), saying why."""
    check_form(person, csrf_token)
    if person.role is not Role.COUNTY_ADMIN:
        raise Forbidden("只有医共体管理中心可以调整评分")
    try:
        moved = Decimal(points.strip())
    except InvalidOperation:
        raise Unfit("调整分值须为数字，如 -2 或 1.5") from None
    if not reason.strip():
        raise Unfit("调整评分须写明原因")
    body = {"points": str(moved), "reason": reason.strip()}
    path = f"/appraisals/{period}/scorecards/{facility_id}/adjustment"
    calls_as(uow.config, person).put("administration", path, body)
    return RedirectResponse(f"/appraisal/{period}/members/{facility_id}", status_code=303)


@router.post("/{period}/corrections")
def correct(
    person: Reader, uow: ConsoleUowDep, period: HalfYear, csrf_token: CsrfField, reason: Reason
) -> Response:
    """An approved half-year found wrong: a new revision (a draft) to review and approve."""
    check_form(person, csrf_token)
    if person.role is not Role.COUNTY_ADMIN:
        raise Forbidden("只有医共体管理中心可以更正已批准的考核")
    if not reason.strip():
        raise Unfit("更正须写明原因")
    body = {"reason": reason.strip()}
    calls_as(uow.config, person).post("administration", f"/appraisals/{period}/corrections", body)
    return RedirectResponse(f"/appraisal?period={period}", status_code=303)
