"""Medical quality on both databases: the hold-time percentiles ranked when a batch commits,
also by two processes deciding holds of the same county at once (each cell is locked while
it is ranked, so neither misses the other's holds)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from libs.events import CloudEvent
from tests.integration.reporting.conftest import cells
from tests.support.harness import HandlerHarness
from tests.support.reporting import REPORTING_UOW
from tests.unit.reporting.reviews import held, rejected, released

NINE = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)  # 09:00 on 2 November, county time
P50, P90 = "review_hold_minutes_p50", "review_hold_minutes_p90"


def _decided(
    facility_id: str, rx: str, after: int, *, reject: bool = False
) -> list[CloudEvent[Any]]:
    decide = rejected if reject else released
    return [
        held(facility_id, rx, NINE),
        decide(facility_id, rx, NINE + timedelta(minutes=after), held_at=NINE),
    ]


def test_hold_times_are_ranked_at_every_level(reporting: HandlerHarness) -> None:
    reporting.apply(*_decided("QS-T01", "RX-1", 12), *_decided("QS-T01", "RX-2", 40, reject=True))
    reporting.apply(*_decided("QS-T05", "RX-1", 25))
    found = cells(reporting)
    day = "2026-11-02"
    assert found[(P50, "facility", "QS-T01", "day", day)][:2] == ("12.00", "2.00")
    assert found[(P90, "facility", "QS-T01", "day", day)][:2] == ("40.00", "2.00")
    assert found[(P50, "county", "QS", "month", "2026-11")] == ("25.00", "3.00", 2)
    assert found[(P90, "community", "QS-MC2", "day", day)][:2] == ("25.00", "1.00")
    assert found[("prescriptions_reviewed", "county", "QS", "day", day)][:2] == ("3.00", "0.00")
    assert found[("prescription_rejected_share", "county", "QS", "day", day)][:2] == (
        "1.00",
        "3.00",
    )


def test_two_processes_ranking_the_same_cells_miss_none_of_the_holds(
    reporting: HandlerHarness, reporting_url: str, db_kind: str
) -> None:
    if db_kind != "postgresql":
        pytest.skip("SQLite has one writer at a time: the two transactions cannot interleave")
    other = HandlerHarness("reporting", reporting_url, units_of_work=REPORTING_UOW)
    try:

        def decide(harness: HandlerHarness, facility_id: str) -> None:
            for n in range(5):
                batch = [
                    event
                    for i in range(4)
                    for event in _decided(facility_id, f"RX-{n}-{i}", 10 + 4 * n + i)
                ]
                harness.apply(*batch)

        with ThreadPoolExecutor(2) as pool:
            jobs = [pool.submit(decide, reporting, "QS-T01"), pool.submit(decide, other, "QS-T05")]
            for job in jobs:
                job.result()
    finally:
        other.close()
    found = cells(reporting)
    for code in (P50, P90):
        assert found[(code, "county", "QS", "month", "2026-11")][1] == "40.00", code
        assert found[(code, "facility", "QS-T05", "day", "2026-11-02")][1] == "20.00", code
    # the same 20 waits (10 to 29 minutes) at each facility: ranks 20 and 36 of the 40
    assert found[(P50, "county", "QS", "day", "2026-11-02")][0] == "19.00"
    assert found[(P90, "county", "QS", "day", "2026-11-02")][0] == "27.00"
