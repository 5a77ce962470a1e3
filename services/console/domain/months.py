"""Months as the county's offices speak of them: the ended ones a person may audit or close
(the current month is never done), and their names."""

from __future__ import annotations

from datetime import date

__all__ = ["ended_months", "month_name"]


def ended_months(today: date, count: int = 12) -> list[str]:
    """The ``count`` months before ``today``'s (``YYYY-MM``), newest first."""
    year, month = today.year, today.month
    found = []
    for _ in range(count):
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
        found.append(f"{year:04d}-{month:02d}")
    return found


def month_name(month: str) -> str:
    return f"{month[:4]}年{int(month[5:7])}月"
