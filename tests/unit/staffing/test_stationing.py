"""Stationing and leave without a database: the domain's decisions, and start_stationing
through an in-memory unit of work."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from libs.events.catalogue.staffing import StationingStarted
from libs.events.catalogue.values import FacilityType, HalfDay, StaffTitle
from services.staffing.domain.calendar import Slot, working_slots
from services.staffing.domain.coverage import away_all_week
from services.staffing.domain.leave import leave_over_sessions
from services.staffing.domain.rules import Absence, Diary, HeldSession, Rule, Stationed
from services.staffing.domain.sessions import SessionStatus
from services.staffing.domain.stationing import Posting, specialist_violations
from services.staffing.service_layer.errors import Invalid, RulesViolated, UnknownReference
from services.staffing.service_layer.stationing import start_stationing
from tests.unit.staffing.fakes import (
    POLICY,
    FakeStaffingUnitOfWork,
    clock_at,
    facility,
    session,
    staff,
)

MONDAY = date(2027, 3, 1)
AM, PM = HalfDay.MORNING, HalfDay.AFTERNOON
HOSPITAL, TOWNSHIP, OTHER = "H1", "T1", "T2"
CHIEF = staff("S-1", HOSPITAL, StaffTitle.CHIEF, name="王建国")


def _diary(*stationings: Stationed) -> Diary:
    return Diary("S-1", "王建国", date(2020, 1, 1), None, stationings=list(stationings))


def _held(session_id: str, facility_id: str, day: date, status: str = "planned") -> HeldSession:
    return HeldSession(session_id, facility_id, Slot(day, AM), status)


# -- the domain ------------------------------------------------------------------------------


def test_a_posting_conflicts_with_sessions_elsewhere_and_other_stationings() -> None:
    posting = Posting(TOWNSHIP, "东湖镇卫生院", MONDAY, MONDAY + timedelta(days=180))
    other = Stationed("STN-0", OTHER, "西山镇卫生院", MONDAY - timedelta(days=30), MONDAY)
    found = posting.conflicts(
        _diary(other),
        [
            _held("SES-HERE", TOWNSHIP, MONDAY + timedelta(days=1)),  # at the host: fine
            _held("SES-AWAY", OTHER, MONDAY + timedelta(days=2)),
            _held("SES-LATER", OTHER, MONDAY + timedelta(days=200)),  # after the posting
        ],
    )
    assert [(v.rule, v.session_id) for v in found] == [
        (Rule.STATIONED_ELSEWHERE, None),
        (Rule.STATIONED_ELSEWHERE, "SES-AWAY"),
    ]
    assert "西山镇卫生院" in found[0].message and "东湖镇卫生院" in found[1].message


def test_a_posting_needs_the_person_active_on_its_first_day() -> None:
    posting = Posting(TOWNSHIP, "东湖镇卫生院", MONDAY, MONDAY + timedelta(days=30))
    leaving = Diary("S-1", "王建国", date(2020, 1, 1), MONDAY - timedelta(days=1))
    assert [v.rule for v in posting.conflicts(leaving, [])] == [Rule.STAFF_NOT_ACTIVE]
    assert posting.conflicts(_diary(), []) == []


def test_a_posting_ends_on_or_after_its_first_day() -> None:
    with pytest.raises(ValueError, match="ends on or after"):
        Posting(TOWNSHIP, "东湖镇卫生院", MONDAY, MONDAY - timedelta(days=1))


def test_only_lead_hospital_specialists_are_stationed() -> None:
    scope = POLICY.specialists
    assert not specialist_violations(
        scope,
        who="王建国",
        title=StaffTitle.CHIEF,
        home_type=FacilityType.COUNTY_HOSPITAL,
        home_name="县人民医院",
    )
    (refused,) = specialist_violations(
        scope,
        who="许志明",
        title=StaffTitle.CHIEF,
        home_type=FacilityType.TOWNSHIP_CENTRE,
        home_name="东湖镇卫生院",
    )
    assert refused.rule is Rule.NOT_A_SPECIALIST and "许志明" in refused.message


def test_leave_cancels_planned_sessions_only_when_asked() -> None:
    sick = Absence("new", "sick", MONDAY + timedelta(days=7), MONDAY + timedelta(days=9))
    sessions = [
        _held("SES-1", TOWNSHIP, MONDAY + timedelta(days=7)),
        _held("SES-2", TOWNSHIP, MONDAY + timedelta(days=20)),  # after the leave: kept
    ]
    kept = leave_over_sessions(sick, "王建国", sessions, cancel_sessions=False, today=MONDAY)
    assert kept.cancelled == [] and [v.session_id for v in kept.violations] == ["SES-1"]
    assert "ask to cancel sessions" in kept.violations[0].message
    cancelled = leave_over_sessions(sick, "王建国", sessions, cancel_sessions=True, today=MONDAY)
    assert [s.session_id for s in cancelled.cancelled] == ["SES-1"]
    assert cancelled.violations == []


def test_leave_over_a_held_or_past_session_is_refused_even_when_cancelling() -> None:
    leave = Absence("new", "annual", MONDAY, MONDAY + timedelta(days=2))
    held = _held("SES-HELD", TOWNSHIP, MONDAY + timedelta(days=1), SessionStatus.DELIVERED.value)
    past = _held("SES-PAST", TOWNSHIP, MONDAY)
    outcome = leave_over_sessions(
        leave, "王建国", [past, held], cancel_sessions=True, today=MONDAY + timedelta(days=1)
    )
    assert outcome.cancelled == []
    assert [(v.rule, v.session_id) for v in outcome.violations] == [
        (Rule.ON_LEAVE, "SES-PAST"),
        (Rule.IN_THE_PAST, None),
        (Rule.ON_LEAVE, "SES-HELD"),
    ]


def test_away_all_week_needs_leave_over_every_working_half_day() -> None:
    week = Absence("L1", "annual", MONDAY, MONDAY + timedelta(days=6))
    assert away_all_week([week], MONDAY)
    mornings = Absence("L2", "training", MONDAY, MONDAY + timedelta(days=6), AM)
    assert not away_all_week([mornings], MONDAY)
    afternoons = Absence("L3", "training", MONDAY, MONDAY + timedelta(days=6), PM)
    assert away_all_week([mornings, afternoons], MONDAY)
    assert not away_all_week([], MONDAY) and working_slots(MONDAY)


# -- start_stationing through a fake unit of work ------------------------------------------


@pytest.fixture
def uow() -> FakeStaffingUnitOfWork:
    fake = FakeStaffingUnitOfWork(clock_at(MONDAY))
    fake.workforce.has(
        facility(HOSPITAL, FacilityType.COUNTY_HOSPITAL, name="县人民医院"),
        facility(TOWNSHIP, FacilityType.TOWNSHIP_CENTRE, name="东湖镇卫生院"),
        facility(OTHER, FacilityType.TOWNSHIP_CENTRE, name="西山镇卫生院"),
        CHIEF,
    )
    return fake


def test_start_stationing_stores_and_announces_it(uow: FakeStaffingUnitOfWork) -> None:
    end = MONDAY + timedelta(days=182)
    row = start_stationing(
        uow, staff_id=CHIEF.staff_id, facility_id=TOWNSHIP, start=MONDAY, planned_end=end
    )
    assert uow.committed
    assert uow.workforce.stationings == [row]
    assert (row.facility_id, row.start_date, row.planned_end_date) == (TOWNSHIP, MONDAY, end)
    assert row.started_at == uow.now()
    (started,) = uow.published(StationingStarted)
    assert started.stationing_id == row.stationing_id
    assert (started.home_facility_id, started.facility_id) == (HOSPITAL, TOWNSHIP)
    assert started.started_at == uow.now()


def test_start_stationing_lists_every_conflict(uow: FakeStaffingUnitOfWork) -> None:
    uow.workforce.has(
        session("SES-AWAY", CHIEF, OTHER, MONDAY + timedelta(days=3)),
        session("SES-GONE", CHIEF, OTHER, MONDAY + timedelta(days=4), status=SessionStatus.MISSED),
    )
    start_stationing(
        uow, staff_id=CHIEF.staff_id, facility_id=OTHER, start=MONDAY, planned_end=MONDAY
    )
    with pytest.raises(RulesViolated) as refused:
        start_stationing(
            uow,
            staff_id=CHIEF.staff_id,
            facility_id=TOWNSHIP,
            start=MONDAY,
            planned_end=MONDAY + timedelta(days=90),
        )
    found = [(v.rule, v.session_id) for v in refused.value.violations]
    assert found == [(Rule.STATIONED_ELSEWHERE, None), (Rule.STATIONED_ELSEWHERE, "SES-AWAY")]
    assert len(uow.workforce.stationings) == 1 and len(uow.published(StationingStarted)) == 1


def test_start_stationing_refuses_a_non_specialist_at_their_own_facility(
    uow: FakeStaffingUnitOfWork,
) -> None:
    gp = staff("S-GP", TOWNSHIP, StaffTitle.ATTENDING, name="许志明")
    uow.workforce.has(gp)
    with pytest.raises(RulesViolated) as refused:
        start_stationing(
            uow, staff_id=gp.staff_id, facility_id=TOWNSHIP, start=MONDAY, planned_end=MONDAY
        )
    assert {v.rule for v in refused.value.violations} == {
        Rule.HOME_FACILITY,
        Rule.NOT_A_SPECIALIST,
    }
    assert not uow.committed


def test_start_stationing_refuses_unknown_people_and_backwards_periods(
    uow: FakeStaffingUnitOfWork,
) -> None:
    with pytest.raises(UnknownReference):
        start_stationing(
            uow, staff_id="S-NOBODY", facility_id=TOWNSHIP, start=MONDAY, planned_end=MONDAY
        )
    with pytest.raises(Invalid):
        start_stationing(
            uow,
            staff_id=CHIEF.staff_id,
            facility_id=TOWNSHIP,
            start=MONDAY,
            planned_end=MONDAY - timedelta(days=1),
        )
    assert uow.events == []
