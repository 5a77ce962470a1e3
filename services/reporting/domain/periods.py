"""Periods of the county's local calendar: days (``YYYY-MM-DD``) and months (``YYYY-MM``).

An event is dated by its business time (when the visit happened, when the prescription was
issued) on the county's clock (libs/platform/clock.py), never by when it was consumed: a
visit at 07:30 on 2 November in 青山县 is 1 November 23:30 UTC and belongs to 2 November.

Period texts sort chronologically as strings, which the cell queries rely on.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal

from libs.events.catalogue.reporting import PeriodKind

__all__ = [
    "count_periods",
    "days_in",
    "first_day",
    "last_day",
    "parse_period",
    "period_of",
    "periods_between",
    "share_of_year",
    "shift_period",
    "span_periods",
]


def period_of(day: date, kind: PeriodKind) -> str:
    """The period of ``kind`` that ``day`` falls in."""
    if kind is PeriodKind.DAY:
        return day.isoformat()
    return f"{day.year:04d}-{day.month:02d}"


def parse_period(text: str, kind: PeriodKind) -> str:
    """``text`` as a period of ``kind``; ``ValueError`` if it is not one."""
    try:
        if kind is PeriodKind.DAY:
            return date.fromisoformat(text).isoformat() if len(text) == 10 else _bad(text, kind)
        year, month = text.split("-")
        if len(year) != 4 or len(month) != 2:
            return _bad(text, kind)
        return period_of(date(int(year), int(month), 1), kind)
    except ValueError:
        return _bad(text, kind)


def _bad(text: str, kind: PeriodKind) -> str:
    shape = "YYYY-MM-DD" if kind is PeriodKind.DAY else "YYYY-MM"
    raise ValueError(f"{text!r} is not a {kind.value} ({shape})")


def first_day(period: str, kind: PeriodKind) -> date:
    if kind is PeriodKind.DAY:
        return date.fromisoformat(period)
    year, month = (int(p) for p in period.split("-"))
    return date(year, month, 1)


def last_day(period: str, kind: PeriodKind) -> date:
    if kind is PeriodKind.DAY:
        return date.fromisoformat(period)
    start = first_day(period, kind)
    return date(start.year, start.month, calendar.monthrange(start.year, start.month)[1])


def days_in(period: str, kind: PeriodKind) -> int:
    return (last_day(period, kind) - first_day(period, kind)).days + 1


def share_of_year(period: str, kind: PeriodKind) -> Decimal:
    """The period's days as a share of its year's days (exact, not rounded)."""
    year = first_day(period, kind).year
    return Decimal(days_in(period, kind)) / Decimal(366 if calendar.isleap(year) else 365)


def periods_between(start: str, end: str, kind: PeriodKind) -> Iterator[str]:
    """Every period of ``kind`` from ``start`` to ``end`` inclusive."""
    day = first_day(start, kind)
    stop = first_day(end, kind)
    while day <= stop:
        yield period_of(day, kind)
        day = (
            day + timedelta(days=1)
            if kind is PeriodKind.DAY
            else last_day(period_of(day, kind), kind) + timedelta(days=1)
        )


def shift_period(period: str, kind: PeriodKind, count: int) -> str:
    """The period ``count`` periods after (before, if negative) ``period``."""
    start = first_day(period, kind)
    if kind is PeriodKind.DAY:
        return period_of(start + timedelta(days=count), kind)
    months = start.year * 12 + start.month - 1 + count
    return period_of(date(months // 12, months % 12 + 1, 1), kind)


def count_periods(start: str, end: str, kind: PeriodKind) -> int:
    """How many periods ``start``..``end`` (inclusive) holds; 0 if ``end`` is before."""
    first, last = first_day(start, kind), first_day(end, kind)
    if kind is PeriodKind.DAY:
        return max(0, (last - first).days + 1)
    return max(0, (last.year - first.year) * 12 + last.month - first.month + 1)


def span_periods(start: date, end: date, kind: PeriodKind) -> list[str]:
    """The periods of ``kind`` that the days ``start``..``end`` (inclusive) touch."""
    if end < start:
        return []
    return list(periods_between(period_of(start, kind), period_of(end, kind), kind))
