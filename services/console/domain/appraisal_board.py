"""考核: the half-years a person may look at, and the appraisal's states and trail in the
county's words (绩效考核: drafted, reviewed, approved by the management committee)."""

from __future__ import annotations

from datetime import date

__all__ = ["NOTES", "STATES", "half_years", "last_ended"]

STATES = {"draft": "草稿（审核中）", "approved": "已批准", "superseded": "已被更正"}
#: The appraisal's trail (the administration service's notes) in the committee's words.
NOTES = {
    "drafted": "起草",
    "recomputed": "按最新数据重算",
    "comment": "意见",
    "adjusted": "调整评分",
    "approved": "批准",
}


def last_ended(today: date) -> str:
    """The latest half-year that has ended: the one a committee approves now."""
    return f"{today.year - 1}-H2" if today.month <= 6 else f"{today.year}-H1"


def half_years(today: date, count: int = 4) -> list[str]:
    """The ``count`` latest ended half-years, newest first."""
    newest = last_ended(today)
    year, half = int(newest[:4]), int(newest[-1])
    found = []
    for _ in range(count):
        found.append(f"{year}-H{half}")
        year, half = (year, 1) if half == 2 else (year - 1, 2)
    return found
