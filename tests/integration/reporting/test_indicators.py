"""Every other indicator through the real handlers (SQLite and PostgreSQL): stock-outs and
near-expiry values as levels, shortages, the insurance budget's pace and the fund kept in
the county, expert sessions, stationed physicians, and what a dead-lettered event leaves."""

from __future__ import annotations

from datetime import UTC, date, datetime

from libs.events.catalogue.reporting import OrgUnitLevel, PeriodKind
from libs.events.catalogue.values import PrescriptionCategory
from services.reporting.domain.indicators import indicator
from services.reporting.service_layer.queries import Readable, series
from tests.integration.reporting.conftest import cells
from tests.integration.reporting.test_known_batch import value_of
from tests.support.harness import HandlerHarness
from tests.support.reporting import (
    claim,
    expiry_scan,
    prescription,
    restocked,
    session_delivered,
    shortage,
    stationing_ended,
    stationing_started,
    stocked_out,
)


def at(day: int, hour: int = 2) -> datetime:
    """An instant on ``day`` November 2026, county time (UTC+8), ``hour`` UTC."""
    return datetime(2026, 11, day, hour, tzinfo=UTC)


def day_series(harness: HandlerHarness, code: str, level: str, unit: str, first: int, last: int):
    with harness.database.sessions() as session:
        [found] = series(
            session,
            indicator(code),
            OrgUnitLevel(level),
            PeriodKind.DAY,
            f"2026-11-{first:02d}",
            f"2026-11-{last:02d}",
            readable=Readable(None),
            unit_id=unit,
        )
    return [None if p.value is None else str(p.value) for p in found.points]


def test_stocked_out_items_are_a_level_carried_forward_and_late_events_move_it(
    reporting: HandlerHarness,
) -> None:
    reporting.apply(
        stocked_out("QS-T01", "D-A", at(1)),
        stocked_out("QS-T01", "D-B", at(1)),
        stocked_out("QS-T05", "D-C", at(2)),
    )
    reporting.apply(restocked("QS-T01", "D-A", at(3)))
    assert day_series(reporting, "stocked_out_items", "facility", "QS-T01", 1, 4) == [
        "2",
        "2",
        "1",
        "1",
    ]
    assert day_series(reporting, "stocked_out_items", "community", "QS-MC1", 1, 4) == [
        "2",
        "2",
        "1",
        "1",
    ]
    assert value_of(reporting, "stocked_out_items", "county", "QS", "day", "2026-11-02") == "3"
    assert value_of(reporting, "stocked_out_items", "county", "QS", "month", "2026-11") == "2"
    # December has no cell yet: it carries November's level.
    assert value_of(reporting, "stocked_out_items", "county", "QS", "month", "2026-12") == "2"

    # Drug B was restocked on the 2nd, but the event arrives after the 3rd's.
    reporting.apply(restocked("QS-T01", "D-B", at(2)))
    assert day_series(reporting, "stocked_out_items", "facility", "QS-T01", 1, 4) == [
        "2",
        "1",
        "0",
        "0",
    ]
    assert value_of(reporting, "stocked_out_items", "county", "QS", "month", "2026-11") == "1"


def test_near_expiry_value_is_each_facilitys_latest_scan(reporting: HandlerHarness) -> None:
    reporting.apply(
        expiry_scan("QS-T01", date(2026, 11, 1), "1000.00"),
        expiry_scan("QS-T02", date(2026, 11, 1), "500.00"),
        expiry_scan("QS-T05", date(2026, 11, 1), "200.00"),
    )
    reporting.apply(expiry_scan("QS-T01", date(2026, 11, 2), "800.00"))
    assert day_series(reporting, "near_expiry_value", "community", "QS-MC1", 1, 3) == [
        "1500.00",
        "1300.00",
        "1300.00",
    ]
    # An older scan arriving late changes nothing; a second scan of the same day replaces it.
    reporting.apply(expiry_scan("QS-T01", date(2026, 11, 1), "9999.00"))
    reporting.apply(expiry_scan("QS-T01", date(2026, 11, 2), "900.00"))
    assert day_series(reporting, "near_expiry_value", "facility", "QS-T01", 1, 2) == [
        "1000.00",
        "900.00",
    ]
    assert value_of(reporting, "near_expiry_value", "county", "QS", "month", "2026-11") == (
        "1600.00"  # T01 900 + T02 500 + T05 200
    )


def test_shortages_are_counted_where_they_were_recorded(reporting: HandlerHarness) -> None:
    reporting.apply(shortage("QS-T01", at(1)), shortage("QS-T01", at(1)), shortage("QS-C04", at(5)))
    assert (
        value_of(reporting, "shortages_recorded", "facility", "QS-T01", "day", "2026-11-01") == "2"
    )
    assert (
        value_of(reporting, "shortages_recorded", "community", "QS-MC2", "month", "2026-11") == "1"
    )
    assert value_of(reporting, "shortages_recorded", "county", "QS", "month", "2026-11") == "3"


def test_budget_pace_compares_payouts_with_the_calendars_share_of_the_budget(
    reporting: HandlerHarness,
) -> None:
    # 3,650,000 a year is 10,000 a day of 2026 (365 days) and 300,000 for November.
    reporting.apply(
        claim("QS-MC1", "6000.00", at(2)),
        claim("QS-MC1", "2000.00", at(2), in_county=False),
        claim("QS-MC2", "3000.00", at(2)),
    )
    assert (
        value_of(reporting, "insurance_budget_pace", "community", "QS-MC1", "day", "2026-11-02")
        == "80.00"
    )
    assert (
        value_of(reporting, "insurance_budget_pace", "community", "QS-MC2", "day", "2026-11-02")
        == "30.00"
    )
    assert (
        value_of(reporting, "insurance_budget_pace", "county", "QS", "day", "2026-11-02") == "55.00"
    )
    assert (
        value_of(reporting, "insurance_budget_pace", "community", "QS-MC1", "month", "2026-11")
        == "2.67"
    )
    # 9,000 of 11,000 paid for care inside the county.
    assert (
        value_of(reporting, "insurance_fund_kept_in_county", "county", "QS", "day", "2026-11-02")
        == "81.82"
    )
    # Another claim adds its payout; the allowance is counted once per community and period.
    reporting.apply(claim("QS-MC2", "7000.00", at(2)))
    assert (
        value_of(reporting, "insurance_budget_pace", "county", "QS", "day", "2026-11-02") == "90.00"
    )
    assert cells(reporting)[("insurance_budget_pace", "county", "QS", "day", "2026-11-02")][:2] == (
        "18000.00",
        "20000.00",
    )


def test_expert_sessions_count_at_the_member_that_hosted_them(reporting: HandlerHarness) -> None:
    reporting.apply(
        session_delivered("QS-T01", date(2026, 11, 3), 12, home_visits=2),
        session_delivered("QS-T05", date(2026, 11, 3), 8),
        session_delivered("QS-H01", date(2026, 11, 3), 30),  # at the expert's own hospital
    )
    month = ("month", "2026-11")
    assert value_of(reporting, "expert_sessions_delivered", "facility", "QS-T01", *month) == "1"
    assert value_of(reporting, "expert_sessions_delivered", "county", "QS", *month) == "2"
    assert value_of(reporting, "expert_patients_seen", "county", "QS", *month) == "20"
    assert value_of(reporting, "expert_home_visits", "community", "QS-MC1", *month) == "2"
    assert value_of(reporting, "expert_sessions_delivered", "facility", "QS-H01", *month) is None


def test_stationed_physicians_count_in_every_period_the_stationing_covers(
    reporting: HandlerHarness,
) -> None:
    reporting.apply(stationing_started("STN-1", "QS-T03", date(2026, 11, 20), date(2027, 1, 10)))
    for unit in (("facility", "QS-T03"), ("community", "QS-MC1"), ("county", "QS")):
        for month in ("2026-11", "2026-12", "2027-01"):
            assert value_of(reporting, "stationed_physicians", *unit, "month", month) == "1"
    assert value_of(reporting, "stationed_physicians", "county", "QS", "day", "2026-11-19") is None
    assert value_of(reporting, "stationed_physicians", "county", "QS", "day", "2027-01-10") == "1"

    # It ends early, on 5 December; another physician is stationed at T04 in December.
    reporting.apply(
        stationing_ended("STN-1", "QS-T03", date(2026, 12, 5)),
        stationing_started("STN-2", "QS-T04", date(2026, 12, 1), date(2026, 12, 31)),
    )
    county = ("county", "QS")
    assert value_of(reporting, "stationed_physicians", *county, "month", "2026-12") == "2"
    assert value_of(reporting, "stationed_physicians", *county, "month", "2027-01") == "0"
    assert value_of(reporting, "stationed_physicians", *county, "day", "2026-12-05") == "2"
    assert value_of(reporting, "stationed_physicians", *county, "day", "2026-12-06") == "1"
    # The same end announced again moves nothing.
    before = cells(reporting)
    reporting.apply(stationing_ended("STN-1", "QS-T03", date(2026, 12, 5)))
    assert cells(reporting) == before


def test_an_event_naming_an_unknown_facility_is_dead_lettered_and_counts_nowhere(
    reporting: HandlerHarness,
) -> None:
    result = reporting.apply(
        prescription("QS-T01", PrescriptionCategory.TCM_HERBAL, at(4)),
        prescription("NOT-A-MEMBER", PrescriptionCategory.TCM_HERBAL, at(4)),
    )
    assert [reason for _, reason in result.dead_lettered] == ["unknown_facility"]
    assert value_of(reporting, "tcm_prescription_share", "county", "QS", "day", "2026-11-04") == (
        "100.00"
    )
    assert not [k for k in cells(reporting) if "NOT-A-MEMBER" in k]


def test_a_batch_publishes_one_changelog_record_per_touched_cell(reporting: HandlerHarness) -> None:
    reporting.apply(
        *(prescription("QS-T01", PrescriptionCategory.WESTERN, at(6)) for _ in range(10))
    )
    published = reporting.published("reporting.indicator.updated.v1")
    # T01, MC1 and the county, each for the day and the month.
    assert len(published) == 6
    assert {str(e.data.denominator) for e in published} == {"10.00"}
