"""The member systems and their feeds, in the gateway's database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from services.gateway.adapters.schema import FeedHour, FeedRefusal, FeedState, MemberSystem
from services.gateway.domain.systems import (
    OpeningHours,
    SystemFormat,
    SystemKind,
    SystemRules,
)

__all__ = ["FeedBook", "SystemRegistry", "rules_of", "utc"]


def utc(value: datetime | None) -> datetime | None:
    """``value`` zone-aware: SQLite hands back naive datetimes, stored in UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def _insert(session: Session) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT (PostgreSQL and SQLite both do)."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert
    return sqlite.insert


def rules_of(row: MemberSystem) -> SystemRules:
    return SystemRules(
        system_id=row.system_id,
        facility_id=row.facility_id,
        kind=SystemKind(row.kind),
        format=SystemFormat(row.format),
        product=row.product,
        opening_hours=OpeningHours.parse(list(row.opening_hours)),
        silent_after=timedelta(minutes=row.silent_after_minutes),
        requests_per_minute=row.requests_per_minute,
        burst=row.burst,
        max_request_bytes=row.max_request_bytes,
    )


class SystemRegistry:
    def __init__(self, session: Session) -> None:
        self._session = session

    def get(self, system_id: str) -> MemberSystem | None:
        return self._session.get(MemberSystem, system_id)

    def all(self) -> list[MemberSystem]:
        return list(self._session.scalars(select(MemberSystem).order_by(MemberSystem.system_id)))

    def save_rules(self, rules: SystemRules, *, at: datetime) -> MemberSystem:
        """Register ``rules`` (or bring a registered system's rules up to date); its secret
        and feed are kept."""
        row = self.get(rules.system_id)
        if row is None:
            row = MemberSystem(system_id=rules.system_id, registered_at=at, active=True)
            self._session.add(row)
            self._session.add(FeedState(system_id=rules.system_id))
        row.facility_id = rules.facility_id
        row.kind = rules.kind.value
        row.format = rules.format.value
        row.product = rules.product
        row.opening_hours = rules.opening_hours.as_text()
        row.silent_after_minutes = rules.silent_after.total_seconds() / 60
        row.requests_per_minute = rules.requests_per_minute
        row.burst = rules.burst
        row.max_request_bytes = rules.max_request_bytes
        return row


class FeedBook:
    """Each system's feed: arrivals, refusals, silences."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def state(self, system_id: str) -> FeedState:
        state = self._session.get(FeedState, system_id)
        if state is None:
            state = FeedState(system_id=system_id)
            self._session.add(state)
        return state

    def states(self) -> dict[str, FeedState]:
        return {s.system_id: s for s in self._session.scalars(select(FeedState))}

    def end_silence(self, system_id: str) -> bool:
        """Mark the feed no longer silent; true for the one caller that ended it."""
        ended = self._session.execute(
            update(FeedState)
            .where(FeedState.system_id == system_id, FeedState.silent_since.is_not(None))
            .values(silent_since=None)
        )
        return bool(getattr(ended, "rowcount", 0))

    def begin_silence(self, system_id: str, since: datetime) -> bool:
        """Mark the feed silent since ``since``; true for the one caller that marked it."""
        began = self._session.execute(
            update(FeedState)
            .where(FeedState.system_id == system_id, FeedState.silent_since.is_(None))
            .values(silent_since=since)
        )
        return bool(getattr(began, "rowcount", 0))

    def arrived(self, system_id: str, at: datetime) -> datetime | None:
        """Note a message from the system at ``at``; when its feed is marked silent, since
        when (one statement: this runs on every request)."""
        silent = self._session.execute(
            update(FeedState)
            .where(FeedState.system_id == system_id)
            .values(last_message_at=at)
            .returning(FeedState.silent_since)
        ).scalar_one_or_none()
        return utc(silent)

    def count(self, system_id: str, *, at: datetime, accepted: int, refused: int) -> None:
        """Add to the system's hour (an upsert: concurrent requests must not collide)."""
        hour = at.replace(minute=0, second=0, microsecond=0)
        table = FeedHour.__table__
        statement = _insert(self._session)(table).values(
            system_id=system_id, hour=hour, accepted=accepted, refused=refused
        )
        self._session.execute(
            statement.on_conflict_do_update(
                index_elements=[table.c.system_id, table.c.hour],
                set_={
                    "accepted": table.c.accepted + accepted,
                    "refused": table.c.refused + refused,
                },
            )
        )

    def refusal(self, system_id: str, reason: str, *, at: datetime, count: int = 1) -> None:
        table = FeedRefusal.__table__
        statement = _insert(self._session)(table).values(
            system_id=system_id, reason=reason[:64], count=count, last_at=at
        )
        self._session.execute(
            statement.on_conflict_do_update(
                index_elements=[table.c.system_id, table.c.reason],
                set_={"count": table.c.count + count, "last_at": at},
            )
        )
        self._session.execute(
            update(FeedState).where(FeedState.system_id == system_id).values(last_refusal_at=at)
        )

    def hours_since(self, since: datetime) -> list[FeedHour]:
        # In UTC, as the hours are stored: SQLite compares instants as text, so the county's
        # midnight (+08:00) would sort after the same day's UTC hours from 17:00 UTC on.
        since = since.astimezone(UTC)
        return list(self._session.scalars(select(FeedHour).where(FeedHour.hour >= since)))

    def refusals(self) -> list[FeedRefusal]:
        return list(self._session.scalars(select(FeedRefusal)))
