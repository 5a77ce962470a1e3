"""Planning sessions and patterns against the hard rules, on a real database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from libs.events.catalogue.values import HalfDay
from services.staffing.adapters.schema import ExpertSession, StaffBooking
from services.staffing.domain.calendar import Weekday
from services.staffing.domain.rotations import RotationPattern, WeeklySlot
from services.staffing.service_layer import leave, planning, stationing
from services.staffing.service_layer.errors import (
    Conflict,
    Invalid,
    RulesViolated,
    UnknownReference,
)
from tests.integration.staffing.conftest import (
    CARDIOLOGY_ASSOCIATE,
    CARDIOLOGY_CHIEF,
    CLINIC_GP,
    NEXT_WEEK,
    TODAY,
    Staffing,
)

AM, PM = HalfDay.MORNING, HalfDay.AFTERNOON


def rules_of(exc: pytest.ExceptionInfo[RulesViolated]) -> list[str]:
    return [v.rule.value for v in exc.value.violations]


def test_a_double_booking_is_refused_with_the_reason(staffing: Staffing) -> None:
    first = planning.plan_session(
        staffing.uow(), staff_id=CARDIOLOGY_CHIEF, facility_id="QS-C01", day=NEXT_WEEK, half_day=AM
    )
    with pytest.raises(RulesViolated) as same_place:
        planning.plan_session(
            staffing.uow(),
            staff_id=CARDIOLOGY_CHIEF,
            facility_id="QS-C01",
            day=NEXT_WEEK,
            half_day=AM,
        )
    assert rules_of(same_place) == ["double_booking"]
    assert first.session_id in same_place.value.message
    assert "王建国 already has session" in same_place.value.message

    with pytest.raises(RulesViolated) as elsewhere:
        planning.plan_session(
            staffing.uow(),
            staff_id=CARDIOLOGY_CHIEF,
            facility_id="QS-T01",
            day=NEXT_WEEK,
            half_day=AM,
        )
    assert rules_of(elsewhere) == ["travel_impossible"]
    assert "same half-day is impossible" in elsewhere.value.message

    # The afternoon of the same day, elsewhere, is fine.
    planning.plan_session(
        staffing.uow(), staff_id=CARDIOLOGY_CHIEF, facility_id="QS-T01", day=NEXT_WEEK, half_day=PM
    )
    assert staffing.count("staffing.session.planned.v1") == 2


def test_only_member_facilities_away_from_home_host_sessions(staffing: Staffing) -> None:
    with pytest.raises(RulesViolated) as at_a_hospital:
        planning.plan_session(
            staffing.uow(),
            staff_id=CARDIOLOGY_CHIEF,
            facility_id="QS-H02",
            day=NEXT_WEEK,
            half_day=AM,
        )
    assert rules_of(at_a_hospital) == ["not_a_host_facility"]
    with pytest.raises(RulesViolated) as at_home:
        planning.plan_session(
            staffing.uow(), staff_id=CLINIC_GP, facility_id="QS-T01", day=NEXT_WEEK, half_day=AM
        )
    assert rules_of(at_home) == ["home_facility"]
    with pytest.raises(UnknownReference) as nobody:
        planning.plan_session(
            staffing.uow(), staff_id="S-NOBODY", facility_id="QS-C01", day=NEXT_WEEK, half_day=AM
        )
    assert nobody.value.code == "unknown_staff"
    assert staffing.published("staffing.session.planned.v1") == []


def test_a_past_day_or_a_closed_week_cannot_be_edited(staffing: Staffing) -> None:
    last_week = TODAY - timedelta(weeks=1)
    with pytest.raises(RulesViolated) as closed:
        planning.plan_session(
            staffing.uow(),
            staff_id=CARDIOLOGY_CHIEF,
            facility_id="QS-C01",
            day=last_week,
            half_day=AM,
        )
    assert rules_of(closed) == ["week_closed"]

    session = planning.plan_session(
        staffing.uow(),
        staff_id=CARDIOLOGY_CHIEF,
        facility_id="QS-C01",
        day=TODAY + timedelta(days=1),
        half_day=AM,
    )
    staffing.clock.set(TODAY + timedelta(days=2))
    with pytest.raises(RulesViolated) as past:
        planning.cancel_session(staffing.uow(), session.session_id, "weather")
    assert rules_of(past) == ["in_the_past"]
    staffing.clock.set(TODAY + timedelta(weeks=1))
    with pytest.raises(RulesViolated) as ended:
        planning.cancel_session(staffing.uow(), session.session_id, "weather")
    assert rules_of(ended) == ["week_closed"]
    assert staffing.published("staffing.session.cancelled.v1") == []


def test_a_weekly_pattern_generates_its_sessions_and_skips_leave_days(staffing: Staffing) -> None:
    # Tuesday mornings and Thursday afternoons for four weeks; on leave the second Tuesday
    # and the morning of the third Thursday (which the pattern does not use anyway).
    leave.record_leave(
        staffing.uow(),
        staff_id=CARDIOLOGY_ASSOCIATE,
        kind=leave.LeaveKind.ANNUAL,
        start=NEXT_WEEK + timedelta(weeks=1, days=1),
        end=NEXT_WEEK + timedelta(weeks=1, days=1),
    )
    leave.record_leave(
        staffing.uow(),
        staff_id=CARDIOLOGY_ASSOCIATE,
        kind=leave.LeaveKind.UNAVAILABLE,
        start=NEXT_WEEK + timedelta(weeks=2, days=3),
        end=NEXT_WEEK + timedelta(weeks=2, days=3),
        half_day=AM,
    )
    pattern = RotationPattern(
        frozenset({WeeklySlot(Weekday.TUESDAY, AM), WeeklySlot(Weekday.THURSDAY, PM)}),
        NEXT_WEEK,
        NEXT_WEEK + timedelta(weeks=4, days=-1),
    )
    result = planning.plan_rotation(
        staffing.uow(), staff_id=CARDIOLOGY_ASSOCIATE, facility_id="QS-C02", pattern=pattern
    )
    planned = [(s.date, s.half_day) for s in result.sessions]
    tuesdays = [NEXT_WEEK + timedelta(weeks=n, days=1) for n in range(4)]
    thursdays = [NEXT_WEEK + timedelta(weeks=n, days=3) for n in range(4)]
    expected = sorted(
        [(d, "morning") for d in tuesdays if d != tuesdays[1]]
        + [(d, "afternoon") for d in thursdays],
        key=lambda p: (p[0], p[1] == "afternoon"),
    )
    assert planned == expected
    assert [(s.date, s.half_day.value) for s, _ in result.skipped] == [(tuesdays[1], "morning")]
    events = staffing.published("staffing.session.planned.v1")
    assert sorted(e.data.session_id for e in events) == sorted(
        s.session_id for s in result.sessions
    )
    assert {e.data.rotation_id for e in events} == {result.rotation.rotation_id}
    assert {e.subject for e in events} == {s.session_id for s in result.sessions}


def test_a_pattern_that_clashes_is_refused_whole_with_every_clash(staffing: Staffing) -> None:
    clash = planning.plan_session(
        staffing.uow(),
        staff_id=CARDIOLOGY_CHIEF,
        facility_id="QS-T02",
        day=NEXT_WEEK + timedelta(weeks=1),
        half_day=AM,
    )
    pattern = RotationPattern(
        frozenset({WeeklySlot(Weekday.MONDAY, AM)}), NEXT_WEEK, NEXT_WEEK + timedelta(weeks=3)
    )
    with pytest.raises(RulesViolated) as refused:
        planning.plan_rotation(
            staffing.uow(), staff_id=CARDIOLOGY_CHIEF, facility_id="QS-C03", pattern=pattern
        )
    assert rules_of(refused) == ["travel_impossible"]
    assert refused.value.violations[0].session_id == clash.session_id
    assert staffing.count("staffing.session.planned.v1") == 1  # only the first session
    with pytest.raises(Invalid):
        planning.plan_rotation(
            staffing.uow(),
            staff_id=CARDIOLOGY_CHIEF,
            facility_id="QS-C03",
            pattern=RotationPattern(pattern.slots, NEXT_WEEK, NEXT_WEEK + timedelta(days=400)),
        )


def test_leave_over_planned_sessions_is_refused_unless_they_are_cancelled(
    staffing: Staffing,
) -> None:
    session = planning.plan_session(
        staffing.uow(),
        staff_id=CARDIOLOGY_CHIEF,
        facility_id="QS-C01",
        day=NEXT_WEEK + timedelta(days=2),
        half_day=PM,
    )
    start, end = NEXT_WEEK, NEXT_WEEK + timedelta(days=4)
    with pytest.raises(RulesViolated) as refused:
        leave.record_leave(
            staffing.uow(),
            staff_id=CARDIOLOGY_CHIEF,
            kind=leave.LeaveKind.SICK,
            start=start,
            end=end,
        )
    assert rules_of(refused) == ["on_leave"]
    assert refused.value.violations[0].session_id == session.session_id

    # Leave for the mornings only does not touch an afternoon session.
    leave.record_leave(
        staffing.uow(),
        staff_id=CARDIOLOGY_CHIEF,
        kind=leave.LeaveKind.TRAINING,
        half_day=AM,
        start=start,
        end=end,
    )
    result = leave.record_leave(
        staffing.uow(),
        staff_id=CARDIOLOGY_CHIEF,
        kind=leave.LeaveKind.SICK,
        cancel_sessions=True,
        start=start,
        end=end,
    )
    assert [s.session_id for s in result.cancelled] == [session.session_id]
    (cancelled,) = staffing.published("staffing.session.cancelled.v1")
    assert cancelled.data.reason == "staff_on_leave"
    with pytest.raises(RulesViolated) as on_leave:
        planning.plan_session(
            staffing.uow(),
            staff_id=CARDIOLOGY_CHIEF,
            facility_id="QS-C02",
            day=NEXT_WEEK + timedelta(days=2),
            half_day=PM,
        )
    assert rules_of(on_leave) == ["on_leave"]

    leave.withdraw_leave(staffing.uow(), result.leave.leave_id)
    with pytest.raises(Conflict):
        leave.withdraw_leave(staffing.uow(), result.leave.leave_id)


def test_a_stationed_physician_has_no_session_elsewhere(staffing: Staffing) -> None:
    stationing.start_stationing(
        staffing.uow(),
        staff_id=CARDIOLOGY_CHIEF,
        facility_id="QS-T01",
        start=NEXT_WEEK,
        planned_end=NEXT_WEEK + timedelta(days=200),
    )
    with pytest.raises(RulesViolated) as refused:
        planning.plan_session(
            staffing.uow(),
            staff_id=CARDIOLOGY_CHIEF,
            facility_id="QS-C01",
            day=NEXT_WEEK + timedelta(days=1),
            half_day=AM,
        )
    assert rules_of(refused) == ["stationed_elsewhere"]
    planning.plan_session(
        staffing.uow(),
        staff_id=CARDIOLOGY_CHIEF,
        facility_id="QS-T01",
        day=NEXT_WEEK + timedelta(days=1),
        half_day=AM,
    )
    with pytest.raises(RulesViolated) as twice:
        stationing.start_stationing(
            staffing.uow(),
            staff_id=CARDIOLOGY_CHIEF,
            facility_id="QS-T02",
            start=NEXT_WEEK + timedelta(days=30),
            planned_end=NEXT_WEEK + timedelta(days=60),
        )
    assert set(rules_of(twice)) == {"stationed_elsewhere"}
    with pytest.raises(RulesViolated) as not_a_specialist:
        stationing.start_stationing(
            staffing.uow(),
            staff_id=CLINIC_GP,
            facility_id="QS-T02",
            start=NEXT_WEEK,
            planned_end=NEXT_WEEK + timedelta(days=200),
        )
    assert rules_of(not_a_specialist) == ["not_a_specialist"]
    assert staffing.count("staffing.stationing.started.v1") == 1


def test_a_concurrent_booking_of_the_same_half_day_loses_on_the_primary_key(
    staffing: Staffing,
) -> None:
    """The rules are checked on what is committed; two requests checking at once are
    separated by the bookings' primary key."""
    planning.plan_session(
        staffing.uow(), staff_id=CARDIOLOGY_CHIEF, facility_id="QS-C01", day=NEXT_WEEK, half_day=AM
    )
    # A request that checked the diary before that commit would now insert the same booking.
    with staffing.uow() as uow:
        uow.session.add(
            StaffBooking(
                staff_id=CARDIOLOGY_CHIEF, date=NEXT_WEEK, half_day="morning", session_id="X-1"
            )
        )
        with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
            uow.session.flush()
    with staffing.uow() as uow:
        count = len(uow.session.scalars(select(ExpertSession)).all())
    assert count == 1


def test_cancelling_a_pattern_cancels_its_planned_future_sessions(staffing: Staffing) -> None:
    pattern = RotationPattern(
        frozenset({WeeklySlot(Weekday.WEDNESDAY, AM)}), TODAY, TODAY + timedelta(weeks=3)
    )
    result = planning.plan_rotation(
        staffing.uow(), staff_id=CARDIOLOGY_ASSOCIATE, facility_id="QS-C01", pattern=pattern
    )
    assert len(result.sessions) == 3
    staffing.clock.set(TODAY + timedelta(days=3))  # after the first Wednesday
    cancelled = planning.cancel_rotation(
        staffing.uow(), result.rotation.rotation_id, from_date=None, reason="rota_changed"
    )
    assert [s.session_id for s in cancelled] == [s.session_id for s in result.sessions[1:]]
    assert staffing.count("staffing.session.cancelled.v1") == 2
    again = planning.cancel_rotation(
        staffing.uow(), result.rotation.rotation_id, from_date=None, reason="rota_changed"
    )
    assert again == []
