"""Attendance through the session's state machine, on a real database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm.exc import StaleDataError

from libs.events.catalogue.values import HalfDay
from services.staffing.adapters.schema import ExpertSession
from services.staffing.service_layer import attendance, planning
from services.staffing.service_layer.errors import Conflict
from tests.integration.staffing.conftest import CARDIOLOGY_CHIEF, TODAY, Staffing


def planned(staffing: Staffing, days_ahead: int = 1, half: HalfDay = HalfDay.MORNING) -> str:
    row = planning.plan_session(
        staffing.uow(),
        staff_id=CARDIOLOGY_CHIEF,
        facility_id="QS-C01",
        day=TODAY + timedelta(days=days_ahead),
        half_day=half,
    )
    return row.session_id


def test_a_session_checked_in_twice_is_delivered_once(staffing: Staffing) -> None:
    session_id = planned(staffing)
    with pytest.raises(Conflict) as early:
        attendance.check_in(staffing.uow(), session_id)
    assert early.value.code == "too_early"

    staffing.clock.set(TODAY + timedelta(days=1))
    attendance.check_in(staffing.uow(), session_id)
    with pytest.raises(Conflict) as again:
        attendance.check_in(staffing.uow(), session_id)
    assert again.value.code == "already_checked_in"
    assert again.value.details == {"status": "checked_in"}

    row = attendance.check_out(staffing.uow(), session_id, patients_seen=23, home_visits=2)
    assert row.status == "delivered"
    for repeat in (
        lambda: attendance.check_out(staffing.uow(), session_id, patients_seen=99),
        lambda: attendance.check_in(staffing.uow(), session_id),
        lambda: attendance.no_show(staffing.uow(), session_id),
        lambda: planning.cancel_session(staffing.uow(), session_id, "late"),
    ):
        with pytest.raises(Conflict) as refused:
            repeat()
        assert refused.value.code == "already_delivered"

    (delivered,) = staffing.published("staffing.session.delivered.v1")
    assert delivered.subject == session_id
    data = delivered.data
    assert (data.patients_seen, data.home_visits) == (23, 2)
    assert (data.staff_id, data.home_facility_id, data.facility_id) == (
        CARDIOLOGY_CHIEF,
        "QS-H01",
        "QS-C01",
    )
    assert data.checked_in_at <= data.checked_out_at


def test_a_no_show_is_announced_once_and_cannot_be_delivered(staffing: Staffing) -> None:
    session_id = planned(staffing, days_ahead=0, half=HalfDay.AFTERNOON)
    attendance.no_show(staffing.uow(), session_id)
    with pytest.raises(Conflict) as refused:
        attendance.check_in(staffing.uow(), session_id)
    assert refused.value.code == "recorded_as_missed"
    with pytest.raises(Conflict) as not_in:
        attendance.check_out(staffing.uow(), planned(staffing), patients_seen=1)
    assert not_in.value.code == "not_checked_in"
    assert staffing.count("staffing.session.missed.v1") == 1
    assert staffing.published("staffing.session.delivered.v1") == []


def test_two_racing_updates_of_one_session_cannot_both_commit(staffing: Staffing) -> None:
    """The version column: a writer that read the session before another's change matches
    no row when it writes (on PostgreSQL two transactions can read at once; SQLite
    serialises them, so the stale read is made in an earlier transaction here)."""
    session_id = planned(staffing, days_ahead=0)
    with staffing.uow() as first, staffing.uow() as second:
        theirs = second.session.get_one(ExpertSession, session_id)
        second.session.commit()  # the object stays loaded, at version 1
        mine = first.session.get_one(ExpertSession, session_id)
        mine.status = "checked_in"
        first.session.commit()
        theirs.status = "checked_in"
        with pytest.raises(StaleDataError):
            second.session.commit()
