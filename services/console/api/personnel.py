"""人事 · 请假与驻点: the personnel office records a physician's leave (whole days or only
mornings or afternoons; with their planned sessions cancelled if it says so, else refused
over them), withdraws leave not taken, stations a specialist at a member for months and ends
a stationing. The staffing service decides each (and announces what changes the timetable);
a physician's page lists their leave."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path
from fastapi.responses import RedirectResponse, Response

from libs.platform.auth import Role
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
from services.console.domain import staffing_board as board
from services.console.service_layer.sessions import SignedIn

router = APIRouter(prefix="/staffing", tags=["console personnel"], include_in_schema=False)

Personnel = Annotated[SignedIn, bench("staffing")]
Code = Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]
Identifier = Annotated[str, Form(max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]


def _office(person: SignedIn) -> None:
    if person.role not in (Role.HR, Role.COUNTY_ADMIN):
        raise Forbidden("您无权办理：请假与驻点由人事部门登记")


@router.get("/staff/{staff_id}")
def physician_page(person: Personnel, uow: ConsoleUowDep, staff_id: Code) -> Response:
    _office(person)
    services = calls_as(uow.config, person)
    member = services.get("staffing", f"/staff/{staff_id}")
    leave = services.every("staffing", "/leave", most=5_000, staff_id=staff_id)
    return uow.config.pages.render(
        "physician.html",
        **frame(uow, person, "staffing"),
        member=member,
        leave=list(reversed(leave)),  # the latest first
        board=board,
    )


@router.post("/leave")
def record_leave(
    person: Personnel,
    uow: ConsoleUowDep,
    csrf_token: CsrfField,
    staff_id: Identifier,
    kind: Annotated[str, Form(max_length=20)],
    start_date: Annotated[date, Form()],
    end_date: Annotated[date, Form()],
    half_day: Annotated[str, Form(max_length=20)] = "",
    cancel_sessions: Annotated[str | None, Form(max_length=10)] = None,
) -> Response:
    """Leave over planned sessions is refused unless the office ticks to cancel them."""
    check_form(person, csrf_token)
    _office(person)
    if kind not in board.LEAVE_KINDS or half_day not in ("", *board.HALF_DAYS):
        raise Unfit("请假类别或时段有误")
    if end_date < start_date:
        raise Unfit("结束日期不能早于开始日期")
    body: dict[str, Any] = {
        "staff_id": staff_id, "kind": kind, "start_date": start_date.isoformat(),
        "end_date": end_date.isoformat(), "half_day": half_day or None,
        "cancel_sessions": cancel_sessions == "yes",
    }  # fmt: skip
    calls_as(uow.config, person).post("staffing", "/leave", body)
    return RedirectResponse(f"/staffing/staff/{staff_id}", status_code=303)


@router.post("/leave/{leave_id}/withdraw")
def withdraw_leave(
    person: Personnel,
    uow: ConsoleUowDep,
    leave_id: Code,
    csrf_token: CsrfField,
    staff_id: Identifier,
) -> Response:
    check_form(person, csrf_token)
    _office(person)
    calls_as(uow.config, person).post("staffing", f"/leave/{leave_id}/withdraw")
    return RedirectResponse(f"/staffing/staff/{staff_id}", status_code=303)


@router.post("/stationings")
def station(
    person: Personnel,
    uow: ConsoleUowDep,
    csrf_token: CsrfField,
    staff_id: Identifier,
    facility_id: Identifier,
    start_date: Annotated[date, Form()],
    planned_end_date: Annotated[date, Form()],
) -> Response:
    check_form(person, csrf_token)
    _office(person)
    if planned_end_date < start_date:
        raise Unfit("计划结束日期不能早于开始日期")
    body = {"staff_id": staff_id, "facility_id": facility_id, "start_date": start_date.isoformat(),
            "planned_end_date": planned_end_date.isoformat()}  # fmt: skip
    calls_as(uow.config, person).post("staffing", "/stationings", body)
    week = board.monday_of(start_date)
    return RedirectResponse(f"/staffing?facility_id={facility_id}&week={week}", status_code=303)


@router.post("/stationings/{stationing_id}/end")
def end_stationing(
    person: Personnel,
    uow: ConsoleUowDep,
    stationing_id: Code,
    csrf_token: CsrfField,
    end_date: Annotated[date, Form()],
    facility_id: Identifier,
) -> Response:
    check_form(person, csrf_token)
    _office(person)
    path = f"/stationings/{stationing_id}/end"
    calls_as(uow.config, person).post("staffing", path, {"end_date": end_date.isoformat()})
    return RedirectResponse(f"/staffing?facility_id={facility_id}", status_code=303)
