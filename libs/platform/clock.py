"""The county's clock: one time zone, "now", "today" and the business date of an instant.

Every service dates what happens by the county's calendar, never by UTC or by when an
event was consumed: a visit at 07:30 on 1 December in the county is December's although it
is still 30 November in UTC. The zone is the platform's ``COUNTY_TIMEZONE`` (Asia/Shanghai
unless configured otherwise); tests give a fixed ``now``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from libs.events.envelope import utc_now

__all__ = ["DEFAULT_ZONE", "CountyClock", "known_zone"]

DEFAULT_ZONE = "Asia/Shanghai"


def known_zone(name: str) -> str:
    """``name`` if it is an IANA time zone; a ``ValueError`` naming it otherwise."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}") from None
    return name


@dataclass(frozen=True)
class CountyClock:
    """The county's calendar and its idea of now."""

    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo(DEFAULT_ZONE))
    now: Callable[[], datetime] = utc_now

    @classmethod
    def of(cls, zone: str, now: Callable[[], datetime] = utc_now) -> CountyClock:
        return cls(ZoneInfo(known_zone(zone)), now)

    def local(self, instant: datetime) -> datetime:
        """``instant`` on the county's clock (a naive instant is taken as UTC, as SQLite
        hands stored instants back)."""
        if instant.tzinfo is None:
            instant = instant.replace(tzinfo=UTC)
        return instant.astimezone(self.zone)

    def date_of(self, instant: datetime) -> date:
        """The business date of an instant: the county's calendar day it falls in."""
        return self.local(instant).date()

    def today(self) -> date:
        return self.date_of(self.now())

    def start_of(self, day: date) -> datetime:
        """The first instant of the county's calendar day ``day``."""
        return datetime.combine(day, time.min, tzinfo=self.zone)

    def at(self, day: date, moment: time) -> datetime:
        """The instant of a local wall-clock time on ``day``."""
        return datetime.combine(day, moment, tzinfo=self.zone)
