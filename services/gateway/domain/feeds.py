"""When a member's feed is silent, and when it has resumed.

A feed is expected only during its facility's opening hours: a silence is measured from the
later of the last message and the opening of the current period, so a clinic that closed at
noon and opened again at two is not "silent since noon". Once announced, a silence is not
announced again until the feed has resumed: each episode is one ``gateway.feed.fallen_silent`` and
one ``gateway.feed.resumed``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from services.gateway.domain.systems import OpeningHours

__all__ = ["FeedState", "silent_since"]


@dataclass(frozen=True)
class FeedState:
    """What the gateway knows of one system's feed."""

    last_message_at: datetime | None
    silent_since: datetime | None
    """Set while a silence is announced and not yet ended."""
    registered_at: datetime


def silent_since(
    state: FeedState,
    hours: OpeningHours,
    allowed_gap: timedelta,
    *,
    now: datetime,
    zone: ZoneInfo,
) -> datetime | None:
    """When the feed fell silent, if it is silent now and not yet announced; else ``None``.

    Silence starts at the last message or, when the facility opened after it (or it never
    sent), at the opening; it counts only while the facility is open."""
    if state.silent_since is not None:
        return None
    opened = hours.open_since(now.astimezone(zone))
    if opened is None:
        return None
    expected_from = max(opened, state.registered_at, state.last_message_at or opened)
    if now - expected_from <= allowed_gap:
        return None
    return expected_from
