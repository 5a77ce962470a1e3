"""Silent feeds on both databases: the periodic count up to now (locking its episodes, and
skipping one a consumer holds) and its correction when the feed resumes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.reporting.service_layer.feeds import count_silences_to_now
from tests.support.harness import HandlerHarness
from tests.unit.reporting.systems import numerators, resumed, silent, uow_at

NINE = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)  # 09:00 on 2 November, county time


def test_open_episodes_count_to_now_until_they_resume(reporting: HandlerHarness) -> None:
    reporting.apply(
        silent("QS-T01", NINE, NINE + timedelta(minutes=5), system="HIS-T01"),
        silent("QS-H01", NINE, NINE + timedelta(minutes=5), system="PACS-H01"),
    )
    assert count_silences_to_now(uow_at(reporting, NINE + timedelta(minutes=30))) == 2
    reporting.apply(resumed("QS-H01", NINE, NINE + timedelta(minutes=10), system="PACS-H01"))
    assert count_silences_to_now(uow_at(reporting, NINE + timedelta(minutes=90))) == 1
    county_day = ("county", "QS", "day", "2026-11-02")
    silent_minutes = numerators(reporting, "feed_silent_minutes")
    assert silent_minutes[county_day] == 90 + 10
    assert silent_minutes[("facility", "QS-T01", "month", "2026-11")] == 90
    assert silent_minutes[("facility", "QS-H01", "month", "2026-11")] == 10
    assert numerators(reporting, "feed_silent_episodes")[county_day] == 2
