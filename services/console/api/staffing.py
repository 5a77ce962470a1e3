"""人事: a member's expert timetable for a week, edited by the personnel office (plan or
cancel a half-day session, publish the week), with the week's coverage against the county's
rules and the physicians stationed there. A member's own staff read their week only. The
staffing service decides every change and announces the published week."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path
from fastapi.responses import RedirectResponse, Response

from libs.platform.auth import Role
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
)
from services.console.api.exports import exported
from services.console.domain import staffing_board as board
from services.console.service_layer.sessions import SignedIn

router = APIRouter(prefix="/staffing", tags=["console staffing"], include_in_schema=False)

Personnel = Annotated[SignedIn, bench("staffing")]
Code = Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]


def _facility(person: SignedIn, wanted: str | None) -> str | None:
    return facility_for(person, wanted, refusal="您只能查看本机构的排班")


def _week(uow: ConsoleUowDep, week: date | None) -> date:
    return board.monday_of(week or uow.config.clock.today())


def _plans(person: SignedIn) -> bool:
    return person.role in (Role.HR, Role.COUNTY_ADMIN)


def _office(services: CallsAs, monday: date, facility: str | None) -> dict[str, Any]:
    """What only the personnel office reads: coverage, stationings, the experts to plan."""
    staff = services.get("staffing", "/staff", active="true", limit=500)["items"]
    return {
        "coverage": services.get("staffing", "/coverage", week=monday.isoformat())[0],
        "stationings": services.get(
            "staffing", "/stationings", facility_id=facility, on=monday.isoformat(), limit=200
        )["items"],
        "experts": [s for s in staff if s["title"] in ("chief", "associate_chief", "attending")],
        "staff_names": {s["staff_id"]: s["display_name"] for s in staff},
    }


@router.get("")
def staffing_page(
    person: Personnel,
    uow: ConsoleUowDep,
    facility_id: FacilityQuery = None,
    week: date | None = None,
) -> Response:
    facility, monday = _facility(person, facility_id), _week(uow, week)
    services = calls_as(uow.config, person)
    timetable = None
    if facility is not None:
        path = f"/timetable/facilities/{facility}"
        timetable = services.get("staffing", path, week=monday.isoformat())
    context: dict[str, Any] = {
        "coverage": None,
        "stationings": [],
        "experts": [],
        "staff_names": {},
    }
    if _plans(person):
        context |= _office(services, monday, facility)
    return uow.config.pages.render(
        "staffing.html",
        **frame(uow, person, "staffing"),
        facility=facility,
        monday=monday,
        previous=monday - timedelta(weeks=1),
        following=monday + timedelta(weeks=1),
        timetable=timetable,
        days=board.grid(monday, timetable["sessions"] if timetable else []),
        plans=_plans(person),
        board=board,
        **context,
    )


def _back(facility: str, monday: date) -> RedirectResponse:
    return RedirectResponse(f"/staffing?facility_id={facility}&week={monday}", status_code=303)


@router.post("/sessions")
def plan_session(
    person: Personnel,
    uow: ConsoleUowDep,
    csrf_token: CsrfField,
    facility_id: Annotated[str, Form(max_length=64)],
    staff_id: Annotated[str, Form(max_length=64)],
    day: Annotated[date, Form(alias="date")],
    half_day: Annotated[str, Form(max_length=20)],
) -> Response:
    check_form(person, csrf_token)
    if not _plans(person):
        raise Forbidden("只有人事部门可以排班")
    body = {"staff_id": staff_id, "facility_id": facility_id, "date": day.isoformat(),
            "half_day": half_day}  # fmt: skip
    calls_as(uow.config, person).post("staffing", "/sessions", body)
    return _back(facility_id, board.monday_of(day))


@router.post("/sessions/{session_id}/cancel")
def cancel_session(
    session_id: Code,
    person: Personnel,
    uow: ConsoleUowDep,
    csrf_token: CsrfField,
    facility_id: Annotated[str, Form(max_length=64)],
    week: Annotated[date, Form()],
) -> Response:
    check_form(person, csrf_token)
    if not _plans(person):
        raise Forbidden("只有人事部门可以取消排班")
    path = f"/sessions/{session_id}/cancel"
    calls_as(uow.config, person).post("staffing", path, {"reason": "cancelled"})
    return _back(facility_id, board.monday_of(week))


@router.post("/weeks/{week}/publish")
def publish_week(
    week: date,
    person: Personnel,
    uow: ConsoleUowDep,
    csrf_token: CsrfField,
    facility_id: Annotated[str, Form(max_length=64)],
) -> Response:
    check_form(person, csrf_token)
    if not _plans(person):
        raise Forbidden("只有人事部门可以发布排班")
    monday = board.monday_of(week)
    calls_as(uow.config, person).post("staffing", f"/timetable/weeks/{monday}/publish")
    return _back(facility_id, monday)


@router.get("/timetable.{fmt}")
def export_timetable(
    person: Personnel,
    uow: ConsoleUowDep,
    fmt: str,
    facility_id: FacilityQuery = None,
    week: date | None = None,
) -> Response:
    facility, monday = _facility(person, facility_id), _week(uow, week)
    if facility is None:
        raise Forbidden("请先选择机构")
    found = calls_as(uow.config, person).get(
        "staffing", f"/timetable/facilities/{facility}", week=monday.isoformat()
    )
    rows = [
        (s["date"], board.HALF_DAYS.get(s["half_day"], s["half_day"]),
         f"{s['starts_at']}–{s['ends_at']}", s["display_name"],
         board.TITLES.get(s["title"], s["title"]),
         board.SESSION_STATES.get(s["status"], s["status"]))
        for s in found["sessions"]
    ]  # fmt: skip
    headers = ("日期", "时段", "时间", "专家", "职称", "状态")
    return exported(Table("专家排班", headers, rows), fmt, "timetable")
