"""The public timetable: what residents read, without logging in.

Read-only, only published weeks, nothing about patients: per member facility an HTML page
(rendered here, so it works without JavaScript) and an iCalendar feed a phone can subscribe
to. A session cancelled after publication stays on both, marked cancelled (停诊), so people
who saw it learn that it is off.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from icalendar import Calendar, Event
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import select

from services.staffing.adapters.schema import Facility
from services.staffing.api.common import StaffingUow
from services.staffing.domain.calendar import week_start
from services.staffing.service_layer.errors import NotFound
from services.staffing.service_layer.unit_of_work import StaffingUnitOfWork
from services.staffing.service_layer.views import FacilityWeek, facility_week, published_weeks

router = APIRouter(prefix="/public/timetable", tags=["public timetable"])

_templates = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parent / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
_WEEKDAYS = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"]
#: Shared caches may keep a copy but must ask again: a cancellation shows at the next load.
_CACHE = {"Cache-Control": "public, no-cache"}
#: How far back the calendar feed reaches (weeks before this one).
FEED_WEEKS_BACK = 4


def _page(template: str, status: int = 200, **context: object) -> HTMLResponse:
    html = _templates.get_template(template).render(**context)
    return HTMLResponse(html, status_code=status, headers=_CACHE if status == 200 else None)


def _not_found(message: str) -> HTMLResponse:
    return _page("message.html", 404, heading="未找到", message=message, facilities=[])


def _hosts(uow: StaffingUnitOfWork) -> list[Facility]:
    types = [t.value for t in uow.policy.host_facility_types]
    return list(
        uow.session.scalars(
            select(Facility)
            .where(Facility.active.is_(True), Facility.facility_type.in_(types))
            .order_by(Facility.facility_id)
        )
    )


@router.get("", response_class=HTMLResponse, summary="The member facilities with a timetable")
def index(request: Request, uow: StaffingUow) -> HTMLResponse:
    with uow:
        facilities = [
            {
                "name": f.name,
                "url": str(request.url_for("timetable_page", facility_id=f.facility_id)),
            }
            for f in _hosts(uow)
        ]
    return _page(
        "message.html", heading="专家坐诊表", message="请选择就诊机构：", facilities=facilities
    )


@router.get(
    "/{facility_id}",
    response_class=HTMLResponse,
    name="timetable_page",
    summary="A facility's published week as a web page",
)
def timetable_page(
    facility_id: str,
    request: Request,
    uow: StaffingUow,
    week: Annotated[
        date | None, Query(description="Any day of the week (default: this week)")
    ] = None,
) -> HTMLResponse:
    with uow:
        monday = week_start(week or uow.today())
        try:
            shown = facility_week(uow, facility_id, monday, public=True)
        except NotFound as exc:
            if exc.code == "not_published":
                return _not_found(f"{monday.isoformat()} 这一周的专家排班尚未发布。")
            return _not_found("没有这个机构。")
        weeks = published_weeks(uow, date.min)
    earlier = [w for w in weeks if w < monday]
    later = [w for w in weeks if w > monday]
    return _page(
        "timetable.html",
        week=shown,
        weekdays=_WEEKDAYS,
        previous=earlier[-1] if earlier else None,
        next=later[0] if later else None,
        calendar_url=str(request.url_for("timetable_calendar", facility_id=facility_id)),
    )


def _calendar(weeks: list[FacilityWeek], uow: StaffingUnitOfWork, name: str) -> bytes:
    zone = uow.clock.zone
    cal = Calendar()
    cal.add("prodid", "-//County medical community//staffing timetable//ZH")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"{name} 专家坐诊")
    cal.add("x-wr-timezone", zone.key)
    for week in weeks:
        for row in week.rows:
            event = Event()
            event.add("uid", f"{row.session_id}@staffing.county-medical-community")
            event.add("dtstamp", week.published_at or uow.now())
            event.add("dtstart", datetime.combine(row.date, row.starts_at, tzinfo=zone))
            event.add("dtend", datetime.combine(row.date, row.ends_at, tzinfo=zone))
            event.add(
                "summary", f"{row.display_name}（{row.title_label}）{row.specialty_label} 专家坐诊"
            )
            event.add("location", week.facility_name)
            event.add("status", "CANCELLED" if row.cancelled else "CONFIRMED")
            event.add("sequence", row.revision)
            cal.add_component(event)
    cal.add_missing_timezones()
    return bytes(cal.to_ical())


@router.get(
    "/{facility_id}/calendar.ics",
    name="timetable_calendar",
    summary="A facility's published sessions as an iCalendar feed",
    response_class=Response,
)
def timetable_calendar(facility_id: str, uow: StaffingUow) -> Response:
    with uow:
        facility = uow.session.get(Facility, facility_id)
        if facility is None:
            return Response("no such facility\n", 404, media_type="text/plain")
        since = week_start(uow.today()) - timedelta(weeks=FEED_WEEKS_BACK)
        weeks = [
            facility_week(uow, facility_id, monday, public=True)
            for monday in published_weeks(uow, since)
        ]
        body = _calendar(weeks, uow, facility.name)
    return Response(body, media_type="text/calendar; charset=utf-8", headers=_CACHE)
