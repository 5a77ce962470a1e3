"""Receiving capacity: the slots (outpatient) and beds (inpatient) a department publishes
for a day, and the holds scheduled referrals take on them.

A request looks for free capacity first (the profile's bed/slot look-up); scheduling holds
one unit. Green channels are never turned away: their holds may overbook a day.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

__all__ = ["CapacityKind", "DayCapacity", "earliest_free_day"]


class CapacityKind(StrEnum):
    SLOT = "slot"  # 号源: an outpatient appointment
    BED = "bed"  # 床位: an admission


@dataclass(frozen=True)
class DayCapacity:
    """What a department published for one day and how much of it is held."""

    day: date
    slots: int
    beds: int
    held_slots: int = 0
    held_beds: int = 0

    def published(self, kind: CapacityKind) -> int:
        return self.slots if kind is CapacityKind.SLOT else self.beds

    def held(self, kind: CapacityKind) -> int:
        return self.held_slots if kind is CapacityKind.SLOT else self.held_beds

    def free(self, kind: CapacityKind) -> int:
        return max(0, self.published(kind) - self.held(kind))


def earliest_free_day(
    days: Iterable[DayCapacity], kind: CapacityKind, *, start: date, end: date
) -> date | None:
    """The first day in ``[start, end]`` with a free unit of ``kind``."""
    free = sorted(d.day for d in days if start <= d.day <= end and d.free(kind) > 0)
    return free[0] if free else None
