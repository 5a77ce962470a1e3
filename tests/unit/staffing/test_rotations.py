"""Recurring weekly patterns and the hard rules, as pure domain."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from libs.events.catalogue.values import HalfDay
from services.staffing.domain.calendar import Slot, Weekday, add_months, week_start
from services.staffing.domain.rotations import RotationPattern, WeeklySlot, plan_rotation
from services.staffing.domain.rules import Absence, Booking, Diary, Rule, Stationed

AM, PM = HalfDay.MORNING, HalfDay.AFTERNOON
MONDAY = date(2027, 3, 1)

weekly_slots = st.frozensets(
    st.builds(WeeklySlot, st.sampled_from(list(Weekday)), st.sampled_from(list(HalfDay))),
    min_size=1,
)


@given(
    slots=weekly_slots,
    start=st.dates(min_value=date(2026, 1, 1), max_value=date(2028, 12, 31)),
    days=st.integers(min_value=0, max_value=120),
)
def test_a_pattern_yields_exactly_its_half_days_in_order(
    slots: frozenset[WeeklySlot], start: date, days: int
) -> None:
    pattern = RotationPattern(slots, start, start + timedelta(days=days))
    found = pattern.occurrences()
    wanted = {(s.weekday.number, s.half_day) for s in slots}
    assert all(start <= s.date <= pattern.end for s in found)
    assert all((s.date.weekday(), s.half_day) in wanted for s in found)
    assert found == sorted(found, key=lambda s: s.sort_key)
    assert len(set(found)) == len(found)
    # Every matching half-day of the period is there: count them day by day.
    expected = sum(
        1
        for n in range(days + 1)
        for half in HalfDay
        if ((start + timedelta(days=n)).weekday(), half) in wanted
    )
    assert len(found) == expected


@given(slots=weekly_slots, leave_start=st.integers(0, 27), leave_days=st.integers(0, 10))
def test_leave_days_are_skipped_and_nothing_else(
    slots: frozenset[WeeklySlot], leave_start: int, leave_days: int
) -> None:
    pattern = RotationPattern(slots, MONDAY, MONDAY + timedelta(days=27))
    absence = Absence(
        "LV-1",
        "annual",
        MONDAY + timedelta(days=leave_start),
        MONDAY + timedelta(days=leave_start + leave_days),
    )
    diary = Diary("S1", "王建国", date(2000, 1, 1), None, absences=[absence])
    plan = plan_rotation(pattern, diary, "QS-C01", "城东")
    assert plan.violations == []
    assert sorted(plan.sessions + [s for s, _ in plan.skipped], key=lambda s: s.sort_key) == (
        pattern.occurrences()
    )
    assert all(absence.covers(s) for s, _ in plan.skipped)
    assert not any(absence.covers(s) for s in plan.sessions)


def test_a_pattern_needs_a_half_day_and_a_forward_period() -> None:
    with pytest.raises(ValueError, match="at least one"):
        RotationPattern(frozenset(), MONDAY, MONDAY)
    with pytest.raises(ValueError, match="ends on or after"):
        RotationPattern(frozenset({WeeklySlot(Weekday.MONDAY, AM)}), MONDAY, MONDAY - timedelta(1))


def diary() -> Diary:
    return Diary(
        "S1",
        "王建国",
        date(2020, 1, 1),
        date(2027, 12, 31),
        bookings={Slot(MONDAY, AM): Booking("SES-1", "QS-C01", "城东")},
        absences=[Absence("LV-1", "sick", MONDAY + timedelta(1), MONDAY + timedelta(1), PM)],
        stationings=[
            Stationed("STN-1", "QS-T01", "东湖", MONDAY + timedelta(7), date(2027, 9, 30))
        ],
    )


@pytest.mark.parametrize(
    ("slot", "facility", "rules"),
    [
        (Slot(MONDAY, AM), "QS-C01", [Rule.DOUBLE_BOOKING]),
        (Slot(MONDAY, AM), "QS-T02", [Rule.TRAVEL_IMPOSSIBLE]),
        (Slot(MONDAY, PM), "QS-T02", []),
        (Slot(MONDAY + timedelta(1), PM), "QS-C01", [Rule.ON_LEAVE]),
        (Slot(MONDAY + timedelta(1), AM), "QS-C01", []),
        (Slot(MONDAY + timedelta(8), AM), "QS-C01", [Rule.STATIONED_ELSEWHERE]),
        (Slot(MONDAY + timedelta(8), AM), "QS-T01", []),
        (Slot(date(2028, 1, 3), AM), "QS-C01", [Rule.STAFF_NOT_ACTIVE]),
    ],
)
def test_each_hard_rule_names_its_reason(slot: Slot, facility: str, rules: list[Rule]) -> None:
    found = diary().check(slot, facility, "某中心")
    assert [v.rule for v in found] == rules
    assert all("王建国" in v.message and v.slot == slot for v in found)


def test_weeks_and_months() -> None:
    assert week_start(date(2027, 3, 7)) == MONDAY  # a Sunday
    assert week_start(MONDAY) == MONDAY
    assert add_months(date(2027, 1, 31), 1) == date(2027, 2, 28)
    assert add_months(date(2027, 9, 1), 6) == date(2028, 3, 1)
