"""The processed-events table: which events a consumer has applied.

Claiming ids is one ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` per batch, inside the
batch's transaction: the ids it returns are new, every other id was applied before.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from libs.events.envelope import utc_now
from libs.events.tables import ProcessedEvent

__all__ = ["APPLIED", "DEAD_LETTERED", "claim", "outcomes_of", "prune", "set_outcome"]

APPLIED = "applied"
DEAD_LETTERED = "dead_lettered"


def claim(session: Session, consumer: str, event_ids: Iterable[str]) -> set[str]:
    """Record ``event_ids`` as processed by ``consumer``; returns the ids that were new.

    ``event_ids`` must be distinct: a duplicate within one statement would be claimed once
    but applied twice by a caller that trusts the input order.
    """
    ids = list(event_ids)
    if not ids:
        return set()
    if len(ids) != len(set(ids)):
        raise ValueError("claim() needs distinct event ids")
    now = utc_now()
    rows = [
        {"consumer": consumer, "event_id": event_id, "outcome": APPLIED, "processed_at": now}
        for event_id in ids
    ]
    dialect = session.get_bind().dialect.name
    keys = ["consumer", "event_id"]
    returning = ProcessedEvent.event_id
    if dialect == "postgresql":
        pg = postgresql.insert(ProcessedEvent).values(rows)
        claimed = session.execute(
            pg.on_conflict_do_nothing(index_elements=keys).returning(returning)
        )
    elif dialect == "sqlite":
        lite = sqlite.insert(ProcessedEvent).values(rows)
        claimed = session.execute(
            lite.on_conflict_do_nothing(index_elements=keys).returning(returning)
        )
    else:
        raise NotImplementedError(f"processed-events claims are not implemented for {dialect}")
    return set(claimed.scalars())


def outcomes_of(session: Session, consumer: str, event_ids: Iterable[str]) -> dict[str, str]:
    """The recorded outcome of each of ``event_ids`` that ``consumer`` has processed."""
    ids = list(event_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(ProcessedEvent.event_id, ProcessedEvent.outcome).where(
            ProcessedEvent.consumer == consumer, ProcessedEvent.event_id.in_(ids)
        )
    )
    return {event_id: outcome for event_id, outcome in rows}


def set_outcome(session: Session, consumer: str, event_id: str, outcome: str) -> None:
    session.execute(
        update(ProcessedEvent)
        .where(ProcessedEvent.consumer == consumer, ProcessedEvent.event_id == event_id)
        .values(outcome=outcome, processed_at=utc_now())
    )


def prune(session: Session, older_than: timedelta, now: datetime | None = None) -> int:
    """Forget claims older than any redelivery could be (default retention is 30 days)."""
    cutoff = (now or utc_now()) - older_than
    result = session.execute(delete(ProcessedEvent).where(ProcessedEvent.processed_at < cutoff))
    return int(getattr(result, "rowcount", 0) or 0)
