"""Simulated time: the shape of a day, and where the simulated period lies in real time.

The simulated period starts at a simulated local hour (midnight for whole days, 08:00 for a
few hours) and runs for ``span``. It is laid onto the real window that *ends now*: business
times are never in the future (consumers dead-letter events dated more than five minutes
ahead). With ``window`` shorter than ``span`` the period is compressed, e.g. a whole
simulated day into the last two real hours; the shape of the day (two peaks) is in simulated
local hours.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

__all__ = ["COUNTY_TZ", "HOURLY_WEIGHTS", "SimClock", "county_today", "hour_weight"]

#: The county's own time zone: its calendar days are the ones plans, slots and reports use.
COUNTY_TZ = ZoneInfo("Asia/Shanghai")


def county_today() -> date:
    """Today's date on the county's calendar (not the machine's)."""
    return datetime.now(COUNTY_TZ).date()


#: Relative activity per local hour of a day at an outpatient clinic: two peaks, 09-11h and
#: 14-16h, a lunch dip and quiet nights (emergencies only).
HOURLY_WEIGHTS: tuple[float, ...] = (
    0.04,
    0.03,
    0.03,
    0.03,
    0.03,
    0.05,
    0.12,
    0.45,  # 00-07
    1.30,
    2.40,
    2.50,
    1.50,
    0.55,
    0.60,
    2.10,
    2.20,  # 08-15
    1.30,
    0.60,
    0.30,
    0.25,
    0.20,
    0.15,
    0.08,
    0.05,  # 16-23
)


def hour_weight(local_hour: float) -> float:
    return HOURLY_WEIGHTS[int(local_hour) % 24]


@dataclass(frozen=True)
class SimClock:
    """Maps simulated offsets (seconds since the period's start) to real UTC instants."""

    span: timedelta
    end: datetime  # real, UTC: the period ends here (normally now)
    window: timedelta  # real length the period is laid onto
    start_hour: float = 0.0  # simulated local hour at offset 0

    def __post_init__(self) -> None:
        if self.end.tzinfo is None:
            raise ValueError("end must be zone-aware")
        if self.span <= timedelta(0) or self.window <= timedelta(0):
            raise ValueError("span and window must be positive")

    @classmethod
    def ending(
        cls,
        end: datetime,
        *,
        days: int = 0,
        hours: float = 0.0,
        window: timedelta | None = None,
        start_hour: float | None = None,
    ) -> SimClock:
        span = timedelta(days=days, hours=hours)
        if start_hour is None:
            start_hour = 0.0 if days else 8.0
        return cls(span, end.astimezone(UTC), window or span, start_hour)

    @property
    def seconds(self) -> float:
        return self.span.total_seconds()

    @property
    def start(self) -> datetime:
        return self.end - self.window

    def real(self, offset_s: float) -> datetime:
        """The real instant of simulated offset ``offset_s`` (clamped into the period)."""
        offset_s = min(max(offset_s, 0.0), self.seconds)
        ratio = self.window / self.span
        return self.end - (self.span - timedelta(seconds=offset_s)) * ratio

    def local_hour(self, offset_s: float) -> float:
        """The simulated local hour of day at ``offset_s``."""
        return (self.start_hour + offset_s / 3600.0) % 24.0

    def day_index(self, offset_s: float) -> int:
        """Which simulated day (0-based) ``offset_s`` falls in."""
        return int((self.start_hour + offset_s / 3600.0) // 24)

    def offset_of(self, day: int, hour: float) -> float:
        """The offset of simulated local ``hour`` on simulated ``day``."""
        return (day * 24 + hour - self.start_hour) * 3600.0

    def hourly_slots(self) -> list[tuple[float, float, float]]:
        """``(from_s, to_s, weight)`` for every hour of the period (partial at the ends)."""
        slots = []
        offset = 0.0
        while offset < self.seconds:
            hour = self.local_hour(offset)
            to = min(self.seconds, offset + (3600.0 - (hour % 1.0) * 3600.0))
            slots.append((offset, to, hour_weight(hour) * (to - offset) / 3600.0))
            offset = to
        return slots
