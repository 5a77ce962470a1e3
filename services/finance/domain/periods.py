"""Accounting periods (``YYYY-MM``) on the county's clock.

A posting is dated by the causing event's time: a visit at 07:00 on 1 December in the
county is December's, although it is still 30 November in UTC. The county's calendar is
the platform's one clock (``libs/platform/clock.py``), not a finance setting of its own.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from libs.platform.clock import CountyClock

__all__ = [
    "calendar_share",
    "month_of",
    "next_period",
    "period_end",
    "period_of",
    "year_of",
]


def period_of(moment: datetime | date, clock: CountyClock) -> str:
    """The accounting period of an instant (on the county's clock) or of a local date."""
    day = clock.date_of(moment) if isinstance(moment, datetime) else moment
    return f"{day.year:04d}-{day.month:02d}"


def year_of(period: str) -> int:
    return int(period[:4])


def month_of(period: str) -> int:
    return int(period[5:7])


def next_period(period: str) -> str:
    year, month = year_of(period), month_of(period)
    return f"{year + 1:04d}-01" if month == 12 else f"{year:04d}-{month + 1:02d}"


def period_end(period: str, clock: CountyClock) -> datetime:
    """The first instant after ``period`` ends, on the county's clock."""
    following = next_period(period)
    return clock.start_of(date(year_of(following), month_of(following), 1))


def calendar_share(day: date) -> Decimal:
    """How much of ``day``'s year has passed by the end of that day (0 < share ≤ 1)."""
    start = date(day.year, 1, 1)
    days_in_year = (date(day.year + 1, 1, 1) - start).days
    elapsed = (day - start).days + 1
    return (Decimal(elapsed) / Decimal(days_in_year)).quantize(Decimal("0.000001"))
