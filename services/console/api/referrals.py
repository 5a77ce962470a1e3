"""转诊: a facility's referral board, its actions, and its export. The referral service
answers only what the person's token may see and refuses what it may not do; the board
asks it again every few seconds (its live fragment) so nobody reloads the page."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import RedirectResponse, Response

from libs.events.envelope import utc_now
from services.console.adapters.exports import Table
from services.console.adapters.services import CallsAs
from services.console.api.deps import (
    ConsoleUowDep,
    CsrfField,
    FacilityQuery,
    Forbidden,
    bench,
    calls_as,
    check_form,
    facility_for,
    frame,
    is_poll,
)
from services.console.api.exports import exported
from services.console.domain import referral_board as board
from services.console.service_layer.accounts import facility_names
from services.console.service_layer.sessions import SignedIn

router = APIRouter(prefix="/referrals", tags=["console referrals"], include_in_schema=False)

Desk = Annotated[SignedIn, bench("referrals")]
OPEN = ("requested", "accepted", "scheduled", "arrived")


def _facility(person: SignedIn, wanted: str | None) -> str | None:
    return facility_for(person, wanted, refusal="您只能查看本机构的转诊看板")


def _lines(services: CallsAs, facility: str | None) -> list[board.BoardLine]:
    found: list[dict[str, Any]] = []
    for state in OPEN:
        page = services.get("referral", "/referrals", facility_id=facility, state=state, limit=200)
        found.extend(page["items"])
    return board.arrange(found, facility or "")


@router.get("")
def board_page(
    request: Request, person: Desk, uow: ConsoleUowDep, facility_id: FacilityQuery = None
) -> Response:
    facility = _facility(person, facility_id)
    services = calls_as(uow.config, person)
    page = frame(uow, person, "referrals") | {
        "facility": facility,
        "lines": _lines(services, facility),
        "now": utc_now(),
        "board": board,
        "countdown": board.countdown,
        "reasons": services.get("referral", "/referrals/codes")["rejection_reasons"],
    }
    template = "referral_rows.html" if is_poll(request) else "referrals.html"
    return uow.config.pages.render(template, **page)


@router.post("/{referral_id}/{action}")
def act(
    referral_id: Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")],
    action: str,
    person: Desk,
    uow: ConsoleUowDep,
    csrf_token: CsrfField,
    reason_code: Annotated[str | None, Form(max_length=64)] = None,
    scheduled_for: Annotated[str | None, Form(max_length=40)] = None,
    facility_id: Annotated[str | None, Form(max_length=64)] = None,
) -> Response:
    check_form(person, csrf_token)
    if action not in board.ACTION_NAMES:
        raise Forbidden("未知操作")
    body: dict[str, Any] | None = None
    if action == "reject":
        body = {"reason_code": reason_code or ""}
    elif action == "schedule":
        body = {"scheduled_for": _instant(uow, scheduled_for)}
    calls_as(uow.config, person).post("referral", f"/referrals/{referral_id}/{action}", body)
    back = f"/referrals?facility_id={facility_id}" if facility_id else "/referrals"
    return RedirectResponse(back, status_code=303)


def _instant(uow: ConsoleUowDep, local: str | None) -> str:
    """A ``datetime-local`` field (the county's clock) as an aware instant."""
    try:
        naive = datetime.fromisoformat(local or "")
    except ValueError:
        raise Forbidden("预约时间格式有误") from None
    return naive.replace(tzinfo=uow.config.clock.zone).isoformat()


@router.get("/export.{fmt}")
def export(
    person: Desk, uow: ConsoleUowDep, fmt: str, facility_id: FacilityQuery = None
) -> Response:
    facility = _facility(person, facility_id)
    pages, names = uow.config.pages, facility_names(uow)
    rows = [
        (
            line.referral["referral_id"],
            "转入" if line.incoming else "转出",
            board.STATES.get(line.referral["state"], line.referral["state"]),
            board.GREEN_CHANNELS.get(line.referral.get("green_channel") or "", ""),
            board.PRIORITIES.get(line.referral["priority"], line.referral["priority"]),
            names.get(line.referral["from_facility_id"], line.referral["from_facility_id"]),
            names.get(line.referral["to_facility_id"], line.referral["to_facility_id"]),
            pages.local(line.referral["requested_at"]),
            pages.local(line.due_at),
        )
        for line in _lines(calls_as(uow.config, person), facility)
    ]
    headers = (
        "转诊单号",
        "方向",
        "状态",
        "绿色通道",
        "优先级",
        "转出机构",
        "转入机构",
        "申请时间",
        "接收时限",
    )
    return exported(Table("转诊看板", headers, rows), fmt, "referrals")
