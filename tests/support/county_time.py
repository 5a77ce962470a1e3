"""The county's calendar, as the services see it: their dates are Asia/Shanghai dates.

Tests that speak in days (a session tomorrow, capacity today) must count from the county's
date, not the machine's: between 16:00 and 24:00 UTC the county is already a day ahead.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

COUNTY_TIMEZONE = ZoneInfo("Asia/Shanghai")


def county_today() -> date:
    return datetime.now(COUNTY_TIMEZONE).date()
