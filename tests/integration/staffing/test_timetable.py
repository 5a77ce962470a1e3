"""Publishing a week and announcing later changes, on a real database."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from sqlalchemy import select

from libs.events.catalogue.staffing import StaffSnapshot
from libs.events.catalogue.values import HalfDay, StaffTitle
from services.staffing.adapters.schema import Facility, StaffMember
from services.staffing.service_layer import planning, registry
from services.staffing.service_layer.errors import Conflict, Invalid
from services.staffing.service_layer.lookup import snapshot
from services.staffing.service_layer.timetable import publish_week
from services.staffing.service_layer.views import facility_week
from tests.integration.staffing.conftest import (
    CARDIOLOGY_ASSOCIATE,
    CARDIOLOGY_CHIEF,
    NEUROLOGY_ATTENDING,
    NEXT_WEEK,
    TODAY,
    Staffing,
)

AM, PM = HalfDay.MORNING, HalfDay.AFTERNOON
HOST_TYPES = ("township_centre", "community_centre", "village_clinic")


def hosts(staffing: Staffing) -> list[str]:
    return staffing.query(
        lambda uow: sorted(
            uow.session.scalars(
                select(Facility.facility_id).where(Facility.facility_type.in_(HOST_TYPES))
            )
        )
    )


def plan(staffing: Staffing, staff_id: str, facility_id: str, day_offset: int, half: HalfDay):
    return planning.plan_session(
        staffing.uow(),
        staff_id=staff_id,
        facility_id=facility_id,
        day=NEXT_WEEK + timedelta(days=day_offset),
        half_day=half,
    )


def test_publishing_announces_one_timetable_per_host_facility(staffing: Staffing) -> None:
    monday_am = plan(staffing, CARDIOLOGY_CHIEF, "QS-C01", 0, AM)
    tuesday_pm = plan(staffing, NEUROLOGY_ATTENDING, "QS-C01", 1, PM)
    plan(staffing, CARDIOLOGY_ASSOCIATE, "QS-T03", 2, AM)
    dropped = plan(staffing, CARDIOLOGY_ASSOCIATE, "QS-T03", 3, AM)
    planning.cancel_session(staffing.uow(), dropped.session_id, "rota_changed")
    other_week = plan(staffing, CARDIOLOGY_CHIEF, "QS-C01", 7, AM)

    done = publish_week(staffing.uow(), NEXT_WEEK, "hr-officer")

    events = staffing.published("staffing.timetable.published.v1")
    assert sorted(e.data.facility_id for e in events) == hosts(staffing)  # 21, once each
    assert done.facilities == len(events) == 21
    assert {e.subject for e in events} == {e.data.facility_id for e in events}
    by_facility = {e.data.facility_id: e.data for e in events}
    c01 = by_facility["QS-C01"]
    assert c01.week_start == NEXT_WEEK
    assert [e.session_id for e in c01.entries] == [monday_am.session_id, tuesday_pm.session_id]
    first = c01.entries[0]
    assert (first.display_name, first.title, first.specialty) == (
        "王建国",
        StaffTitle.CHIEF,
        "cardiology",
    )
    assert (first.date, first.half_day, first.starts_at, first.ends_at) == (
        NEXT_WEEK,
        AM,
        time(8, 0),
        time(12, 0),
    )
    assert [e.session_id for e in by_facility["QS-T03"].entries] != [dropped.session_id]
    assert len(by_facility["QS-T03"].entries) == 1
    assert by_facility["QS-T05"].entries == []  # no expert comes: an empty timetable
    assert all(other_week.session_id not in {x.session_id for x in e.data.entries} for e in events)
    assert done.sessions == 3

    with pytest.raises(Conflict) as twice:
        publish_week(staffing.uow(), NEXT_WEEK, "hr-officer")
    assert twice.value.code == "week_already_published"
    assert staffing.count("staffing.timetable.published.v1") == 21


def test_changes_to_a_published_week_are_announced(staffing: Staffing) -> None:
    kept = plan(staffing, CARDIOLOGY_CHIEF, "QS-C01", 0, AM)
    later = plan(staffing, CARDIOLOGY_ASSOCIATE, "QS-C02", 1, PM)
    draft = plan(staffing, CARDIOLOGY_CHIEF, "QS-C01", 8, AM)  # the week after: a draft
    assert staffing.published("staffing.timetable.changed.v1") == []
    publish_week(staffing.uow(), NEXT_WEEK, "hr-officer")

    planning.cancel_session(staffing.uow(), later.session_id, "staff_ill")
    added = plan(staffing, NEUROLOGY_ATTENDING, "QS-C02", 2, AM)
    planning.cancel_session(staffing.uow(), draft.session_id, "rota_changed")  # not announced

    changes = staffing.published("staffing.timetable.changed.v1")
    assert [(c.data.change.value, c.data.entry.session_id, c.data.reason) for c in changes] == [
        ("cancelled", later.session_id, "staff_ill"),
        ("added", added.session_id, None),
    ]
    cancelled = changes[0].data
    assert (cancelled.facility_id, cancelled.week_start) == ("QS-C02", NEXT_WEEK)
    assert (cancelled.entry.date, cancelled.entry.half_day) == (later.date, PM)
    assert cancelled.entry.specialty == "cardiology"

    # A correction residents see (the title) is announced on every upcoming published entry.
    staff = staffing.query(lambda uow: snapshot(uow.session.get_one(StaffMember, CARDIOLOGY_CHIEF)))
    promoted = StaffSnapshot(**{**staff.model_dump(), "display_name": "王建国（专家）"})
    registry.update_staff(staffing.uow(), promoted)
    renamed = staffing.published("staffing.timetable.changed.v1")[2:]
    assert [(c.data.change.value, c.data.entry.session_id) for c in renamed] == [
        ("changed", kept.session_id)
    ]
    assert renamed[0].data.entry.display_name == "王建国（专家）"

    # Residents see the cancellation after publication; a draft is not shown at all.
    week = staffing.query(lambda uow: facility_week(uow, "QS-C02", NEXT_WEEK, public=True))
    assert [(r.session_id, r.cancelled) for r in week.rows] == [
        (later.session_id, True),
        (added.session_id, False),
    ]


def test_a_closed_week_or_a_wrong_day_cannot_be_published(staffing: Staffing) -> None:
    with pytest.raises(Conflict) as closed:
        publish_week(staffing.uow(), TODAY - timedelta(weeks=1), "hr-officer")
    assert closed.value.code == "week_closed"
    with pytest.raises(Invalid) as tuesday:
        publish_week(staffing.uow(), NEXT_WEEK + timedelta(days=1), "hr-officer")
    assert tuesday.value.code == "not_a_monday"
    publish_week(staffing.uow(), TODAY, "hr-officer")  # this week, still open
    assert staffing.count("staffing.timetable.published.v1") == 21
