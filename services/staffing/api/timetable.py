"""Admin HTTP for the weekly timetable: publish a week, read a facility's week as JSON,
and the coverage report."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query

from libs.platform.http.security import ensure_facility
from services.staffing.api.common import (
    PersonnelReader,
    Planner,
    StaffingUow,
    TimetableReader,
)
from services.staffing.domain.calendar import week_start
from services.staffing.domain.coverage import WeekCoverage
from services.staffing.domain.timetable import week_status
from services.staffing.service_layer import coverage, timetable
from services.staffing.service_layer.views import FacilityWeek, facility_week, published_weeks

router = APIRouter(tags=["timetable"])


def coverage_view(report: WeekCoverage) -> dict[str, Any]:
    return {
        "week_start": report.week_start.isoformat(),
        "met": report.met,
        "rules": [
            {
                "rule_id": rule.rule_id,
                "kind": rule.kind,
                "description": rule.description,
                "met": rule.met,
                "checks": len(rule.checks),
                "missed": [c.as_dict() for c in rule.misses],
            }
            for rule in report.rules
        ],
    }


def week_view(week: FacilityWeek) -> dict[str, Any]:
    return {
        "facility_id": week.facility_id,
        "facility_name": week.facility_name,
        "week_start": week.week_start.isoformat(),
        "status": week.status.value,
        "published_at": week.published_at.isoformat() if week.published_at else None,
        "sessions": [
            {
                "session_id": r.session_id,
                "staff_id": r.staff_id,
                "display_name": r.display_name,
                "title": r.title.value,
                "specialty": r.specialty,
                "department": r.specialty_label,
                "date": r.date.isoformat(),
                "half_day": r.half_day.value,
                "starts_at": r.starts_at.strftime("%H:%M"),
                "ends_at": r.ends_at.strftime("%H:%M"),
                "status": r.status.value,
            }
            for r in week.rows
        ],
    }


@router.post(
    "/timetable/weeks/{week_start}/publish",
    summary="Publish a week: freeze it and announce it, one event per host facility",
)
def publish_week(week_start: date, principal: Planner, uow: StaffingUow) -> dict[str, Any]:
    done = timetable.publish_week(uow, week_start, principal.subject)
    (report,) = coverage.coverage_report(uow, week_start, 1)
    return {
        "week_start": done.week_start.isoformat(),
        "published_at": done.published_at.isoformat(),
        "facilities": done.facilities,
        "sessions": done.sessions,
        "coverage": coverage_view(report),
    }


@router.get("/timetable/weeks", summary="Which weeks are draft, published or closed")
def weeks(
    _: PersonnelReader,
    uow: StaffingUow,
    start: Annotated[
        date | None, Query(alias="from", description="Any day of the first week")
    ] = None,
    count: Annotated[int, Query(alias="weeks", ge=1, le=52)] = 8,
) -> list[dict[str, str]]:
    with uow:
        first = week_start(start or uow.today())
        published = set(published_weeks(uow, first))
        return [
            {
                "week_start": monday.isoformat(),
                "status": week_status(
                    monday, published=monday in published, today=uow.today()
                ).value,
            }
            for monday in (first + timedelta(weeks=n) for n in range(count))
        ]


@router.get(
    "/timetable/facilities/{facility_id}",
    summary="A facility's week as JSON (drafts included; clinic staff: their own facility)",
)
def facility_timetable(
    facility_id: str,
    principal: TimetableReader,
    uow: StaffingUow,
    week: Annotated[
        date | None, Query(description="Any day of the week (default: this week)")
    ] = None,
) -> dict[str, Any]:
    ensure_facility(principal, facility_id)
    with uow:
        monday = week_start(week or uow.today())
        return week_view(facility_week(uow, facility_id, monday, public=False))


@router.get("/coverage", summary="Which coverage rules each week meets or misses")
def coverage_report(
    _: Planner,
    uow: StaffingUow,
    week: Annotated[date | None, Query(description="Any day of the first week")] = None,
    weeks: Annotated[int, Query(ge=1, le=coverage.MAX_WEEKS)] = 1,
) -> list[dict[str, Any]]:
    first = week_start(week or uow.today())
    return [coverage_view(r) for r in coverage.coverage_report(uow, first, weeks)]
