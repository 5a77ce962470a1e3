"""The staffing admin and public HTTP API in-process: roles, statuses, error shapes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import icalendar
import pytest
from fastapi.testclient import TestClient

from libs.platform.auth import Role
from libs.platform.migrations import upgrade
from libs.platform.settings import PlatformSettings
from libs.platform.worker import ServiceProcess
from services.staffing.bootstrap import compose
from services.staffing.settings import Settings
from tests.integration.staffing.conftest import (
    CARDIOLOGY_CHIEF,
    NEXT_WEEK,
    TODAY,
    Clock,
    county_events,
)
from tests.support.apps import holding_the_county


class Api:
    def __init__(self, process: ServiceProcess, client: TestClient, clock: Clock) -> None:
        self.process, self.client, self.clock = process, client, clock

    def as_(self, role: Role | None, facility: str | None = None) -> dict[str, str]:
        if role is None:
            return {}
        token = self.process.token_authority.mint(subject="t", role=role, facility_id=facility)
        return {"Authorization": f"Bearer {token}"}

    def call(
        self, method: str, path: str, role: Role | None, facility: str | None = None, **kw: Any
    ) -> httpx.Response:
        return self.client.request(method, path, headers=self.as_(role, facility), **kw)


@pytest.fixture
def api(make_database: Callable[[str], str], tmp_path: Path) -> Iterator[Api]:
    clock = Clock(TODAY)
    process = compose(
        PlatformSettings(data_dir=tmp_path / "data"),
        Settings(database_url=make_database("staffing")),
        clock=clock.county(),
    )
    upgrade(process.migrations, process.database_url)
    harness = holding_the_county(process, county_events())  # and the seed staff with it
    with TestClient(process.admin_app()) as client:
        yield Api(process, client, clock)
    harness.close()
    process.database.dispose()


def session_body(day_offset: int = 0, **changes: Any) -> dict[str, Any]:
    body = {
        "staff_id": CARDIOLOGY_CHIEF,
        "facility_id": "QS-C01",
        "date": (NEXT_WEEK + timedelta(days=day_offset)).isoformat(),
        "half_day": "morning",
    }
    return {**body, **changes}


def test_planning_is_for_hr_and_refusals_name_the_rule(api: Api) -> None:
    assert api.call("POST", "/sessions", None, json=session_body()).status_code == 401
    clinic = api.call("POST", "/sessions", Role.CLINIC_STAFF, "QS-C01", json=session_body())
    assert clinic.status_code == 403
    assert (
        api.call("POST", "/sessions", Role.FINANCE_CENTRE, json=session_body()).status_code == 403
    )

    created = api.call("POST", "/sessions", Role.HR, json=session_body())
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "planned"
    # Coverage rules are targets: the answer says which the person still misses that week.
    notes = {(n["rule_id"], n["subject_id"]): n for n in created.json()["coverage"]}
    half_a_day = notes["senior_community_day", CARDIOLOGY_CHIEF]
    assert (half_a_day["week_start"], half_a_day["actual"]) == (NEXT_WEEK.isoformat(), "0.5")
    assert ("specialist_days_down", "QS-MC1") in notes

    double = api.call("POST", "/sessions", Role.COUNTY_ADMIN, json=session_body())
    assert double.status_code == 409
    body = double.json()
    assert body["error"] == "rule_violated"
    assert body["details"]["rules"] == ["double_booking"]
    assert body["details"]["violations"][0]["session_id"] == created.json()["session_id"]

    unknown = api.call("POST", "/sessions", Role.HR, json=session_body(staff_id="S-NOBODY"))
    assert (unknown.status_code, unknown.json()["error"]) == (422, "unknown_staff")
    closed = api.call("POST", "/sessions", Role.HR, json=session_body(-14))
    assert closed.status_code == 409
    assert closed.json()["details"]["rules"] == ["week_closed"]
    bad = api.call("POST", "/sessions", Role.HR, json=session_body(half_day="evening"))
    assert (bad.status_code, bad.json()["error"]) == (422, "invalid_input")
    pattern = {
        "staff_id": CARDIOLOGY_CHIEF,
        "facility_id": "QS-C02",
        "slots": [{"weekday": "friday", "half_day": "afternoon"}],
        "start_date": NEXT_WEEK.isoformat(),
        "end_date": TODAY.isoformat(),
    }
    backwards = api.call("POST", "/rotations", Role.HR, json=pattern)
    assert (backwards.status_code, backwards.json()["error"]) == (422, "invalid_pattern")
    metrics = api.client.get("/metrics").text
    assert 'staffing_rule_violations_total{rule="double_booking"} 1.0' in metrics
    assert 'staffing_sessions{facility="QS-C01",status="planned"} 1.0' in metrics


def test_clinic_staff_record_attendance_only_at_their_facility(api: Api) -> None:
    session = api.call("POST", "/sessions", Role.HR, json=session_body()).json()
    path = f"/sessions/{session['session_id']}"
    api.clock.set(NEXT_WEEK)
    elsewhere = api.call("POST", f"{path}/check-in", Role.CLINIC_STAFF, "QS-C02")
    assert elsewhere.status_code == 403
    assert api.call("POST", f"{path}/check-in", Role.HR).status_code == 403
    assert api.call("POST", f"{path}/check-in", Role.CLINIC_STAFF, "QS-C01").status_code == 200
    again = api.call("POST", f"{path}/check-in", Role.CLINIC_STAFF, "QS-C01")
    assert (again.status_code, again.json()["error"]) == (409, "already_checked_in")
    out = api.call(
        "POST", f"{path}/check-out", Role.CLINIC_STAFF, "QS-C01", json={"patients_seen": 12}
    )
    assert out.json()["status"] == "delivered"
    assert api.call("POST", "/sessions/NOPE/check-in", Role.COUNTY_ADMIN).status_code == 404

    own = api.call(
        "GET",
        "/timetable/facilities/QS-C01",
        Role.CLINIC_STAFF,
        "QS-C01",
        params={"week": NEXT_WEEK.isoformat()},
    )
    assert own.status_code == 200
    assert [s["status"] for s in own.json()["sessions"]] == ["delivered"]
    other = api.call("GET", "/timetable/facilities/QS-C02", Role.CLINIC_STAFF, "QS-C01")
    assert other.status_code == 403
    listed = api.call("GET", "/sessions", Role.CLINIC_STAFF, "QS-C01")
    assert listed.json()["total"] == 1
    assert api.call("GET", "/coverage", Role.CLINIC_STAFF, "QS-C01").status_code == 403


def test_the_public_timetable_shows_only_published_weeks(api: Api) -> None:
    session = api.call("POST", "/sessions", Role.HR, json=session_body(1)).json()
    page = f"/public/timetable/QS-C01?week={NEXT_WEEK.isoformat()}"
    draft = api.client.get(page)
    assert draft.status_code == 404
    assert "尚未发布" in draft.text
    assert "王建国" not in draft.text
    assert (
        api.call(
            "POST", f"/timetable/weeks/{NEXT_WEEK}/publish", Role.CLINIC_STAFF, "QS-C01"
        ).status_code
        == 403
    )
    published = api.call("POST", f"/timetable/weeks/{NEXT_WEEK}/publish", Role.HR)
    assert published.status_code == 200, published.text
    assert published.json()["facilities"] == 21
    assert "senior_community_day" in {r["rule_id"] for r in published.json()["coverage"]["rules"]}

    shown = api.client.get(page)  # no token: the public part
    assert shown.status_code == 200
    assert shown.headers["content-type"].startswith("text/html")
    for text in (
        "城东街道社区卫生服务中心",
        "王建国",
        "主任医师",
        "心血管内科",
        "上午",
        "08:00–12:00",
    ):
        assert text in shown.text
    assert api.client.get("/public/timetable/QS-NOPE").status_code == 404
    assert "城东街道社区卫生服务中心" in api.client.get("/public/timetable").text

    feed = api.client.get("/public/timetable/QS-C01/calendar.ics")
    assert feed.headers["content-type"].startswith("text/calendar")
    (event,) = icalendar.Calendar.from_ical(feed.content).walk("VEVENT")
    assert str(event["uid"]).startswith(session["session_id"])
    assert "王建国" in str(event["summary"])
    assert event.decoded("dtstart").hour == 8
    assert str(event["status"]) == "CONFIRMED"


def test_hr_registers_changes_and_deactivates_staff_over_http(api: Api) -> None:
    body = {
        "staff_id": "S-HTTP-1",
        "display_name": "白求真",
        "home_facility_id": "QS-H01",
        "title": "attending",
        "specialty": "cardiology",
        "active_from": "2026-01-01",
    }
    assert api.call("POST", "/staff", Role.CLINIC_STAFF, "QS-T01", json=body).status_code == 403
    created = api.call("POST", "/staff", Role.HR, json=body)
    assert created.status_code == 201, created.text
    assert created.json()["display_name"] == "白求真"
    assert api.call("POST", "/staff", Role.HR, json=body).status_code == 409
    change = {k: v for k, v in body.items() if k != "staff_id"} | {"title": "associate_chief"}
    changed = api.call("PUT", "/staff/S-HTTP-1", Role.HR, json=change)
    assert changed.status_code == 200, changed.text
    assert changed.json()["title"] == "associate_chief"
