"""The county's clock: business dates in the county's calendar, not UTC's."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from libs.platform.clock import CountyClock
from libs.platform.settings import PlatformSettings

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_an_instant_falls_in_the_countys_local_day_not_utcs() -> None:
    shanghai = CountyClock(SHANGHAI)
    assert shanghai.date_of(datetime(2026, 10, 31, 16, 30, tzinfo=UTC)) == date(2026, 11, 1)
    assert shanghai.date_of(datetime(2026, 10, 31, 15, 59, tzinfo=UTC)) == date(2026, 10, 31)
    utc = CountyClock(ZoneInfo("UTC"))
    assert utc.date_of(datetime(2026, 10, 31, 16, 30, tzinfo=UTC)) == date(2026, 10, 31)


def test_a_naive_instant_is_utc_as_sqlite_returns_stored_instants() -> None:
    shanghai = CountyClock(SHANGHAI)
    assert shanghai.date_of(datetime(2026, 10, 31, 16, 30)) == date(2026, 11, 1)


def test_today_and_the_start_of_a_day_follow_the_given_now() -> None:
    clock = CountyClock(SHANGHAI, now=lambda: datetime(2026, 12, 31, 16, 0, tzinfo=UTC))
    assert clock.today() == date(2027, 1, 1)
    assert clock.start_of(date(2027, 1, 1)) == datetime(2026, 12, 31, 16, 0, tzinfo=UTC)
    assert clock.at(date(2027, 1, 1), time(8)) == datetime(2027, 1, 1, 0, 0, tzinfo=UTC)


def test_the_platform_settings_name_the_countys_zone() -> None:
    assert PlatformSettings(county_timezone="Asia/Urumqi").county_clock().zone == ZoneInfo(
        "Asia/Urumqi"
    )
    with pytest.raises(ValidationError, match="unknown time zone"):
        PlatformSettings(county_timezone="Mars/Olympus")
    with pytest.raises(ValueError, match="unknown time zone"):
        CountyClock.of("Mars/Olympus")


@pytest.mark.parametrize("retired", ["REPORTING_TIMEZONE", "REFERRAL_TIMEZONE"])
def test_a_zone_set_the_retired_way_is_refused_not_ignored(
    retired: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(retired, "Asia/Urumqi")
    with pytest.raises(ValidationError, match=f"{retired} is retired: set COUNTY_TIMEZONE"):
        PlatformSettings()
