"""The staffing service as a real process, with the real broker and database (SQLite, then
PostgreSQL): what the issue must show, end to end.

One staffing process per database kind serves every scenario of this module; scenarios use
people, weeks and a correlation id of their own, and find their events on the broker by it
(both runs share one broker).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import icalendar
import pytest
from selenium.webdriver.common.by import By

from libs.events.codec import decode
from libs.events.envelope import CloudEvent
from libs.platform.auth import Role
from tests.conftest import Suite
from tests.support.browser import Chromium, find_or_install_chromium, headless_chromium
from tests.support.county_time import county_today
from tests.support.kafka import read_all, wait_for
from tests.support.services import ServiceHandle

pytestmark = pytest.mark.e2e

HOST_FACILITIES = 21  # the seed county's township and community centres and village clinics


def monday(weeks_ahead: int) -> date:
    today = county_today()
    return today - timedelta(days=today.weekday()) + timedelta(weeks=weeks_ahead)


@pytest.fixture(scope="module")
def staffing(module_suite: Suite) -> ServiceHandle:
    service = module_suite.start("administration", "staffing")["staffing"]
    # The seed staff are loaded once the administration's organisation reached staffing.
    with service.client(Role.HR) as hr:
        wait_for(lambda: hr.get("/staff/S-H01-010").status_code == 200, what="the seed staff")
    return service


class Caller:
    """An admin client whose requests carry one correlation id, found again on the broker."""

    def __init__(self, service: ServiceHandle, bootstrap: str) -> None:
        self.service, self.bootstrap = service, bootstrap
        self.correlation = f"e2e-{uuid.uuid4().hex[:12]}"

    def __call__(
        self, method: str, path: str, role: Role = Role.HR, facility: str | None = None, **kw: Any
    ) -> httpx.Response:
        with self.service.client(role, facility) as client:
            headers = {"X-Correlation-ID": self.correlation}
            return client.request(method, path, headers=headers, **kw)

    def events(self, topic: str, type_name: str) -> list[CloudEvent[Any]]:
        found = [decode(r.value) for r in read_all(self.bootstrap, topic) if r.value]
        return [e for e in found if e.type == type_name and e.correlation_id == self.correlation]

    def drained(self) -> None:
        wait_for(lambda: self.service.metric("staffing_outbox_pending") == 0, what="the outbox")


@pytest.fixture
def caller(staffing: ServiceHandle, module_suite: Suite) -> Caller:
    return Caller(staffing, module_suite.bootstrap)


def test_a_double_booking_is_refused_with_the_reason(caller: Caller) -> None:
    body = {
        "staff_id": "S-H01-010",  # 吴敏, associate chief surgeon
        "facility_id": "QS-C01",
        "date": (monday(5) + timedelta(days=1)).isoformat(),
        "half_day": "morning",
    }
    first = caller("POST", "/sessions", json=body)
    assert first.status_code == 201, first.text
    again = caller("POST", "/sessions", json=body)
    assert again.status_code == 409
    refusal = again.json()
    assert refusal["error"] == "rule_violated"
    assert refusal["details"]["rules"] == ["double_booking"]
    assert first.json()["session_id"] in refusal["message"]
    elsewhere = caller("POST", "/sessions", json={**body, "facility_id": "QS-T02"})
    assert elsewhere.json()["details"]["rules"] == ["travel_impossible"]

    caller.drained()
    planned = caller.events("staffing.session", "staffing.session.planned.v1")
    assert [e.data.session_id for e in planned] == [first.json()["session_id"]]


def test_a_recurring_pattern_plans_its_sessions_and_skips_leave_days(caller: Caller) -> None:
    start = monday(6)
    on_leave = start + timedelta(weeks=1, days=2)  # the second Wednesday
    leave = caller(
        "POST",
        "/leave",
        json={
            "staff_id": "S-H01-005",  # 陈静, associate chief neurologist
            "kind": "training",
            "start_date": on_leave.isoformat(),
            "end_date": on_leave.isoformat(),
        },
    )
    assert leave.status_code == 201, leave.text
    created = caller(
        "POST",
        "/rotations",
        json={
            "staff_id": "S-H01-005",
            "facility_id": "QS-C02",
            "slots": [
                {"weekday": "wednesday", "half_day": "morning"},
                {"weekday": "wednesday", "half_day": "afternoon"},
            ],
            "start_date": start.isoformat(),
            "end_date": (start + timedelta(weeks=4, days=-1)).isoformat(),
        },
    )
    assert created.status_code == 201, created.text
    result = created.json()
    wednesdays = [start + timedelta(weeks=n, days=2) for n in range(4) if n != 1]
    assert [(s["date"], s["half_day"]) for s in result["sessions"]] == [
        (d.isoformat(), half) for d in wednesdays for half in ("morning", "afternoon")
    ]
    assert [(s["date"], s["reason"]) for s in result["skipped"]] == [
        (on_leave.isoformat(), "on_leave"),
        (on_leave.isoformat(), "on_leave"),
    ]

    caller.drained()
    planned = caller.events("staffing.session", "staffing.session.planned.v1")
    assert sorted(e.data.session_id for e in planned) == sorted(
        s["session_id"] for s in result["sessions"]
    )
    assert {e.data.rotation_id for e in planned} == {result["rotation_id"]}
    assert on_leave not in {e.data.date for e in planned}


def test_publishing_a_week_emits_one_event_per_facility_and_a_cancellation_a_change(
    caller: Caller,
) -> None:
    week = monday(3)
    sessions = [
        caller(
            "POST",
            "/sessions",
            json={
                "staff_id": staff_id,
                "facility_id": "QS-T04",
                "date": (week + timedelta(days=offset)).isoformat(),
                "half_day": "afternoon",
            },
        ).json()
        for staff_id, offset in (("S-H01-004", 0), ("S-H01-017", 2))  # 刘志强, 林国平
    ]
    published = caller("POST", f"/timetable/weeks/{week.isoformat()}/publish")
    assert published.status_code == 200, published.text
    assert published.json()["facilities"] == HOST_FACILITIES

    timetables = wait_for(
        lambda: (
            found
            if len(found := caller.events("staffing.timetable", "staffing.timetable.published.v1"))
            >= HOST_FACILITIES
            else None
        ),
        what="the published timetables",
    )
    facilities = [e.data.facility_id for e in timetables]
    assert len(facilities) == len(set(facilities)) == HOST_FACILITIES
    assert all(e.data.week_start == week for e in timetables)
    (t04,) = [e.data for e in timetables if e.data.facility_id == "QS-T04"]
    assert [e.session_id for e in t04.entries] == [s["session_id"] for s in sessions]
    assert [(e.display_name, e.specialty) for e in t04.entries] == [
        ("刘志强", "neurology"),
        ("林国平", "respiratory medicine"),
    ]
    again = caller("POST", f"/timetable/weeks/{week.isoformat()}/publish")
    assert (again.status_code, again.json()["error"]) == (409, "week_already_published")

    gone = sessions[1]["session_id"]
    cancelled = caller("POST", f"/sessions/{gone}/cancel", json={"reason": "staff_ill"})
    assert cancelled.status_code == 200, cancelled.text
    (change,) = wait_for(
        lambda: caller.events("staffing.timetable", "staffing.timetable.changed.v1"),
        what="the timetable change",
    )
    assert change.subject == "QS-T04"
    assert (change.data.change.value, change.data.entry.session_id, change.data.reason) == (
        "cancelled",
        gone,
        "staff_ill",
    )
    caller.drained()
    assert len(caller.events("staffing.timetable", "staffing.timetable.published.v1")) == (
        HOST_FACILITIES
    )


def test_attendance_produces_exactly_one_delivered_event_even_if_checked_in_twice(
    caller: Caller,
) -> None:
    session = caller(
        "POST",
        "/sessions",
        json={
            "staff_id": "S-H02-002",  # 郑淑芬, associate chief, TCM internal medicine
            "facility_id": "QS-C04",
            "date": county_today().isoformat(),
            "half_day": "afternoon",
        },
    ).json()
    path = f"/sessions/{session['session_id']}"
    clinic: dict[str, Any] = {"role": Role.CLINIC_STAFF, "facility": "QS-C04"}
    assert caller("POST", f"{path}/check-in", **clinic).status_code == 200
    twice = caller("POST", f"{path}/check-in", **clinic)
    assert (twice.status_code, twice.json()["error"]) == (409, "already_checked_in")
    out = caller(
        "POST", f"{path}/check-out", json={"patients_seen": 17, "home_visits": 1}, **clinic
    )
    assert out.status_code == 200, out.text
    again = caller("POST", f"{path}/check-out", json={"patients_seen": 17}, **clinic)
    assert (again.status_code, again.json()["error"]) == (409, "already_delivered")

    wait_for(
        lambda: caller.events("staffing.session", "staffing.session.delivered.v1"),
        what="the delivered event",
    )
    caller.drained()
    (delivered,) = caller.events("staffing.session", "staffing.session.delivered.v1")
    assert delivered.subject == session["session_id"]
    assert (delivered.data.patients_seen, delivered.data.home_visits) == (17, 1)
    assert (delivered.data.home_facility_id, delivered.data.facility_id) == ("QS-H02", "QS-C04")
    metrics = caller.service.metrics()
    assert 'staffing_sessions{facility="QS-C04",status="delivered"} 1.0' in metrics


def test_the_coverage_report_flags_a_week_without_a_community_day(caller: Caller) -> None:
    week = monday(10)
    for offset, half in ((1, "morning"), (1, "afternoon"), (8, "morning"), (8, "afternoon")):
        caller(
            "POST",
            "/sessions",
            json={
                "staff_id": "S-H01-007",  # 赵磊, associate chief, emergency medicine
                # a community centre the first week, a township centre the next
                "facility_id": "QS-C03" if offset < 7 else "QS-T03",
                "date": (week + timedelta(days=offset)).isoformat(),
                "half_day": half,
            },
        ).raise_for_status()
    report = caller("GET", "/coverage", params={"week": week.isoformat(), "weeks": 2})
    assert report.status_code == 200, report.text
    first, second = report.json()

    def senior(week_report: dict[str, Any]) -> dict[str, Any]:
        (rule,) = [r for r in week_report["rules"] if r["rule_id"] == "senior_community_day"]
        return rule

    assert "S-H01-007" not in {m["subject_id"] for m in senior(first)["missed"]}
    (missed,) = [m for m in senior(second)["missed"] if m["subject_id"] == "S-H01-007"]
    assert missed["subject_name"] == "赵磊"
    assert missed["reason"] == "0 day(s) at community_centre, fewer than 1"
    assert senior(second)["met"] is False


@pytest.fixture(scope="module")
def chromium() -> Chromium:
    return find_or_install_chromium()


@pytest.fixture
def browser(chromium: Chromium) -> Iterator[Any]:
    with headless_chromium(chromium) as driver:
        yield driver


def test_the_public_timetable_renders_in_a_browser_and_as_icalendar(
    caller: Caller, browser: Any
) -> None:
    week = monday(2)
    planned = [
        caller(
            "POST",
            "/sessions",
            json={
                "staff_id": staff_id,
                "facility_id": "QS-C03",
                "date": (week + timedelta(days=offset)).isoformat(),
                "half_day": half,
            },
        ).json()
        for staff_id, offset, half in (
            ("S-H01-009", 1, "morning"),  # 周海涛, chief, general surgery
            ("S-H01-013", 3, "afternoon"),  # 马超, associate chief, orthopaedics
        )
    ]
    page = f"{caller.service.url}/public/timetable/QS-C03?week={week.isoformat()}"
    browser.get(page)
    assert "尚未发布" in browser.find_element(By.ID, "message").text  # not published yet

    caller("POST", f"/timetable/weeks/{week.isoformat()}/publish").raise_for_status()
    browser.get(page)
    assert browser.find_element(By.ID, "facility").text == "城南街道社区卫生服务中心"
    assert week.isoformat() == browser.find_element(By.ID, "week").get_attribute("data-week-start")

    def rows() -> list[dict[str, str]]:
        return [
            {
                cell: row.find_element(By.CSS_SELECTOR, f".{cell}").text
                for cell in ("date", "half-day", "name", "title", "specialty", "state")
            }
            for row in browser.find_elements(By.CSS_SELECTOR, "#timetable tr.session")
        ]

    tuesday, thursday = week + timedelta(days=1), week + timedelta(days=3)
    assert rows() == [
        {
            "date": f"{tuesday.month}月{tuesday.day}日 周二",
            "half-day": "上午 08:00–12:00",
            "name": "周海涛",
            "title": "主任医师",
            "specialty": "普外科",
            "state": "坐诊",
        },
        {
            "date": f"{thursday.month}月{thursday.day}日 周四",
            "half-day": "下午 14:00–17:30",
            "name": "马超",
            "title": "副主任医师",
            "specialty": "骨科",
            "state": "坐诊",
        },
    ]

    caller("POST", f"/sessions/{planned[1]['session_id']}/cancel", json={}).raise_for_status()
    browser.get(page)
    assert [(r["name"], r["state"]) for r in rows()] == [("周海涛", "坐诊"), ("马超", "停诊")]

    feed = httpx.get(f"{caller.service.url}/public/timetable/QS-C03/calendar.ics", timeout=10)
    assert feed.status_code == 200
    assert feed.headers["content-type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(feed.content)
    events = {str(e["uid"]).split("@")[0]: e for e in calendar.walk("VEVENT")}
    surgeon, orthopaedist = (events[p["session_id"]] for p in planned)
    assert "周海涛" in str(surgeon["summary"]) and "主任医师" in str(surgeon["summary"])
    shanghai = ZoneInfo("Asia/Shanghai")
    assert surgeon.decoded("dtstart") == datetime(
        tuesday.year, tuesday.month, tuesday.day, 8, 0, tzinfo=shanghai
    )
    assert surgeon.decoded("dtend").astimezone(shanghai).hour == 12
    assert str(surgeon["location"]) == "城南街道社区卫生服务中心"
    assert (str(surgeon["status"]), str(orthopaedist["status"])) == ("CONFIRMED", "CANCELLED")
    assert orthopaedist.decoded("sequence") > surgeon.decoded("sequence")
