"""The members' information systems: tests ordered and results reported by kind, and the
gateway's silent feeds (episodes, and minutes counted up to now until they resume) — the
rules, and the handlers through the backbone on SQLite (idempotency by event id and by the
fact's identity)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from libs.events import CloudEvent, new_event
from libs.events.catalogue.reporting import PeriodKind
from libs.events.catalogue.values import FacilityTier
from services.reporting.domain import rules
from services.reporting.domain.cells import Add, CellKey, Change, Member
from services.reporting.service_layer.feeds import count_silences_to_now, restore_episode
from tests.support.harness import HandlerHarness
from tests.support.reporting import COUNTY
from tests.unit.reporting.systems import (
    IMAGING,
    LAB,
    harness_on,
    numerators,
    order,
    result,
    resumed,
    silent,
    uow_at,
)

T01 = Member("QS-T01", "QS-MC1", FacilityTier.PRIMARY)
#: 09:00 on 2 November, county time.
NINE = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
#: 23:30 on 2 November and 00:45 on 3 November, county time.
LATE, AFTER_MIDNIGHT = (
    datetime(2026, 11, 2, 15, 30, tzinfo=UTC),
    datetime(2026, 11, 2, 16, 45, tzinfo=UTC),
)
DAY, MONTH = PeriodKind.DAY, PeriodKind.MONTH


def minutes(n: int) -> timedelta:
    return timedelta(minutes=n)


def keys(changes: list[Change]) -> list[CellKey]:
    """The cells ``changes`` add one to (each must be such an addition)."""
    assert all(isinstance(c, Add) and c.numerator == 1 for c in changes)
    return [c.key for c in changes if isinstance(c, Add)]


def test_orders_and_results_count_by_test_kind_at_every_level() -> None:
    lab = keys(rules.order_placed(order("QS-T01", LAB, NINE).data, T01, COUNTY))
    assert {(k.indicator, k.level.value, k.period) for k in lab} == {
        ("lab_tests_ordered", level, period)
        for level in ("facility", "community", "county")
        for period in ("2026-11-02", "2026-11")
    }
    imaging = keys(rules.order_placed(order("QS-T01", IMAGING, NINE).data, T01, COUNTY))
    assert {k.indicator for k in imaging} == {"imaging_exams_ordered"}
    reported = keys(rules.result_reported(result("QS-T01", IMAGING, LATE).data, T01, COUNTY))
    assert {k.indicator for k in reported} == {"imaging_results_reported"}
    after = keys(rules.result_reported(result("QS-T01", LAB, AFTER_MIDNIGHT).data, T01, COUNTY))
    assert {k.period for k in after} == {"2026-11-03", "2026-11"}


def test_silent_minutes_are_split_at_the_countys_midnight() -> None:
    assert rules.silent_minutes(LATE, AFTER_MIDNIGHT, DAY, COUNTY) == {
        "2026-11-02": 30,
        "2026-11-03": 45,
    }
    assert rules.silent_minutes(LATE, AFTER_MIDNIGHT, MONTH, COUNTY) == {"2026-11": 75}
    assert rules.silent_minutes(AFTER_MIDNIGHT, LATE, DAY, COUNTY) == {
        "2026-11-02": -30,
        "2026-11-03": -45,
    }
    assert rules.silent_minutes(NINE, NINE + timedelta(seconds=59), DAY, COUNTY) == {}
    began = keys(rules.silence_began(T01, LATE, COUNTY))
    assert {(k.indicator, k.period) for k in began} == {
        ("feed_silent_episodes", "2026-11-02"),
        ("feed_silent_episodes", "2026-11"),
    }


seconds = st.integers(min_value=0, max_value=3 * 24 * 3600)


@given(a=seconds, b=seconds, c=seconds)
def test_minutes_counted_in_steps_add_up_to_the_minutes_counted_at_once(
    a: int, b: int, c: int
) -> None:
    """The job counts an open episode forward in steps and its resumption may move it back:
    whatever the steps, the total is the span's."""
    start, middle, end = (LATE + timedelta(seconds=s) for s in (a, b, c))
    for kind in (DAY, MONTH):
        steps = rules.silent_minutes(start, middle, kind, COUNTY)
        for period, n in rules.silent_minutes(middle, end, kind, COUNTY).items():
            steps[period] = steps.get(period, 0) + n
        assert {p: n for p, n in steps.items() if n} == rules.silent_minutes(
            start, end, kind, COUNTY
        )


@pytest.fixture
def reporting(tmp_path: Path) -> Iterator[HandlerHarness]:
    yield from harness_on(tmp_path)


def resent(original: CloudEvent) -> CloudEvent:
    """The same fact sent again under a new event id (as a hospital interface replays)."""
    return new_event(original.data, source=original.source)


def test_orders_and_results_are_counted_once_whatever_their_event_id(
    reporting: HandlerHarness,
) -> None:
    lab = order("QS-T01", LAB, NINE, order_id="O-1")
    imaging = order("QS-T01", IMAGING, NINE, order_id="O-2")
    reporting.apply(
        lab,
        imaging,
        resent(imaging),  # in the same batch
        order("QS-T05", LAB, NINE, order_id="O-1"),  # another facility's order O-1
        result("QS-T01", LAB, NINE, result_id="R-1"),
    )
    again = result("QS-T01", LAB, NINE, result_id="R-1")
    applied = reporting.apply(lab, resent(lab), again)
    assert applied.applied == [] and len(applied.duplicates) == 3
    ordered = numerators(reporting, "lab_tests_ordered")
    assert ordered[("facility", "QS-T01", "day", "2026-11-02")] == 1
    assert ordered[("county", "QS", "month", "2026-11")] == 2
    assert (
        numerators(reporting, "imaging_exams_ordered")[("community", "QS-MC1", "day", "2026-11-02")]
        == 1
    )
    assert (
        numerators(reporting, "lab_results_reported")[("facility", "QS-T01", "day", "2026-11-02")]
        == 1
    )
    assert numerators(reporting, "imaging_results_reported") == {}


def test_a_silent_feed_counts_up_to_now_and_is_corrected_when_it_resumes(
    reporting: HandlerHarness,
) -> None:
    first = silent("QS-T01", NINE, NINE + minutes(20))
    reporting.apply(first)
    facility_day = ("facility", "QS-T01", "day", "2026-11-02")
    assert numerators(reporting, "feed_silent_episodes")[facility_day] == 1
    assert numerators(reporting, "feed_silent_minutes")[facility_day] == 20

    # Still silent: the job counts it up to now, and again changes nothing.
    assert count_silences_to_now(uow_at(reporting, NINE + minutes(60))) == 1
    assert count_silences_to_now(uow_at(reporting, NINE + minutes(60))) == 0
    assert numerators(reporting, "feed_silent_minutes")[facility_day] == 60

    # It had resumed at 09:45; the news comes after the job counted past it.
    reporting.apply(resumed("QS-T01", NINE, NINE + minutes(45)))
    assert count_silences_to_now(uow_at(reporting, NINE + minutes(180))) == 0
    # The silence sent again under a new event id changes nothing.
    reporting.apply(resent(first))

    silent_minutes = numerators(reporting, "feed_silent_minutes")
    assert silent_minutes[facility_day] == 45
    assert silent_minutes[("community", "QS-MC1", "day", "2026-11-02")] == 45
    assert silent_minutes[("county", "QS", "month", "2026-11")] == 45
    assert numerators(reporting, "feed_silent_episodes")[("county", "QS", "day", "2026-11-02")] == 1


def test_a_resumption_whose_silence_never_came_counts_whole(reporting: HandlerHarness) -> None:
    reporting.apply(resumed("QS-T01", LATE, AFTER_MIDNIGHT, system="LIS-1"))
    reporting.apply(silent("QS-T01", LATE, LATE + minutes(10), system="LIS-1"))  # late, ignored
    silent_minutes = numerators(reporting, "feed_silent_minutes")
    assert silent_minutes[("facility", "QS-T01", "day", "2026-11-02")] == 30
    assert silent_minutes[("facility", "QS-T01", "day", "2026-11-03")] == 45
    assert silent_minutes[("facility", "QS-T01", "month", "2026-11")] == 75
    assert numerators(reporting, "feed_silent_episodes") == {
        (level, unit, kind, period): 1
        for level, unit in (("facility", "QS-T01"), ("community", "QS-MC1"), ("county", "QS"))
        for kind, period in (("day", "2026-11-02"), ("month", "2026-11"))
    }


def test_a_rebuild_restores_episodes_so_a_resumption_does_not_count_them_again(
    reporting: HandlerHarness,
) -> None:
    """After a rebuild (cells from the changelog), a resumption moves the restored open
    episode's minutes from the rebuild on, and a resumption already seen counts nothing."""
    rebuilt_at = NINE + minutes(30)
    with reporting.database.sessions() as session:
        assert restore_episode(session, silent("QS-T01", NINE, NINE + minutes(5)).data, rebuilt_at)
        assert restore_episode(
            session, resumed("QS-T01", LATE, AFTER_MIDNIGHT, system="L").data, rebuilt_at
        )
        assert not restore_episode(session, silent("QS-T01", NINE, NINE).data, rebuilt_at)
        session.commit()
    reporting.apply(
        resumed("QS-T01", NINE, NINE + minutes(40)),
        resumed("QS-T01", LATE, AFTER_MIDNIGHT, system="L"),
    )
    assert numerators(reporting, "feed_silent_minutes") == {
        (level, unit, kind, period): 10
        for level, unit in (("facility", "QS-T01"), ("community", "QS-MC1"), ("county", "QS"))
        for kind, period in (("day", "2026-11-02"), ("month", "2026-11"))
    }
    assert numerators(reporting, "feed_silent_episodes") == {}
