"""Accounting periods (``YYYY-MM``) in the county's local time.

A posting is dated by the causing event's time: a visit at 07:00 on 1 December in the
county is December's, although it is still 30 November in UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

__all__ = [
    "calendar_share",
    "local_date",
    "month_of",
    "next_period",
    "period_end",
    "period_of",
    "year_of",
]


def local_date(moment: datetime, tz: ZoneInfo) -> date:
    """The county's calendar date at ``moment`` (a naive time is taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(tz).date()


def period_of(moment: datetime | date, tz: ZoneInfo) -> str:
    """The accounting period of an instant (in local time) or of a local date."""
    day = local_date(moment, tz) if isinstance(moment, datetime) else moment
    return f"{day.year:04d}-{day.month:02d}"


def year_of(period: str) -> int:
    return int(period[:4])


def month_of(period: str) -> int:
    return int(period[5:7])


def next_period(period: str) -> str:
    year, month = year_of(period), month_of(period)
    return f"{year + 1:04d}-01" if month == 12 else f"{year:04d}-{month + 1:02d}"


def period_end(period: str, tz: ZoneInfo) -> datetime:
    """The first instant after ``period`` ends, in local time."""
    following = next_period(period)
    return datetime(year_of(following), month_of(following), 1, tzinfo=tz)


def calendar_share(day: date) -> Decimal:
    """How much of ``day``'s year has passed by the end of that day (0 < share ≤ 1)."""
    start = date(day.year, 1, 1)
    days_in_year = (date(day.year + 1, 1, 1) - start).days
    elapsed = (day - start).days + 1
    return (Decimal(elapsed) / Decimal(days_in_year)).quantize(Decimal("0.000001"))
