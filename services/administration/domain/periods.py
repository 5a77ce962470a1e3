"""Half-years of the county's calendar, the appraisal's periods (上半年 / 下半年)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

__all__ = ["HalfYear"]

_PATTERN = re.compile(r"^([0-9]{4})-H([12])$")


@dataclass(frozen=True, order=True)
class HalfYear:
    year: int
    half: int

    @classmethod
    def parse(cls, text: str) -> HalfYear:
        """``2026-H1`` (January to June) or ``2026-H2`` (July to December)."""
        found = _PATTERN.match(text)
        if found is None or not 2000 <= int(found.group(1)) <= 2100:
            raise ValueError(f"{text!r} is not a half-year such as 2026-H1")
        return cls(int(found.group(1)), int(found.group(2)))

    def __str__(self) -> str:
        return f"{self.year}-H{self.half}"

    @property
    def months(self) -> list[str]:
        """The period's months as ``YYYY-MM``."""
        first = 1 if self.half == 1 else 7
        return [f"{self.year}-{m:02d}" for m in range(first, first + 6)]

    @property
    def first_day(self) -> date:
        return date(self.year, 1 if self.half == 1 else 7, 1)

    @property
    def last_day(self) -> date:
        return date(self.year, 6, 30) if self.half == 1 else date(self.year, 12, 31)

    def has_ended(self, today: date) -> bool:
        return today > self.last_day
