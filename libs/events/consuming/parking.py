"""Parking: one event waiting for master data holds its own key, never the partition.

An event from another service of the suite may name a facility this service's copy does not
know yet (its registration is on another topic, and may be behind). It is set aside in
``parked_events``, in the consumer's transaction, and the batch goes on; every later event of
the same topic and record key is set aside behind it, so that key's order holds. A periodic
retry applies a key's parked events in order once the head can be applied, and dead-letters
a head still waiting after the grace period (``consume_reference_grace_s``).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from libs.events.consuming.message import ConsumedMessage
from libs.events.envelope import utc_now
from libs.events.outbox.staging import decode_headers, encode_headers
from libs.events.tables import ParkedEvent

__all__ = [
    "BEHIND_PARKED",
    "PARKED",
    "message_of",
    "park",
    "park_key",
    "parked",
    "parked_keys",
    "unpark",
]

#: The processed-event outcome of a parked event.
PARKED = "parked"
#: Why an event whose own references may be fine is parked: an earlier one of its key is.
BEHIND_PARKED = "behind_parked"
#: How many parked events one retry round looks at.
RETRY_ROUND = 500


def park_key(message: ConsumedMessage) -> str:
    """What order is kept per: the topic and the record key (the aggregate)."""
    key = (message.key or b"").decode("utf-8", "replace")
    return f"{message.topic}|{key}"[:300]


def parked_keys(session: Session, consumer: str, keys: Iterable[str]) -> set[str]:
    """Those of ``keys`` that have events parked."""
    wanted = sorted(set(keys))
    if not wanted:
        return set()
    rows = session.scalars(
        select(ParkedEvent.park_key)
        .where(ParkedEvent.consumer == consumer, ParkedEvent.park_key.in_(wanted))
        .distinct()
    )
    return set(rows)


def park(
    session: Session, consumer: str, message: ConsumedMessage, event_id: str, reason: str
) -> None:
    session.add(
        ParkedEvent(
            consumer=consumer,
            park_key=park_key(message),
            event_id=event_id,
            topic=message.topic,
            partition=message.partition,
            offset=message.offset,
            key=message.key,
            value=message.value or b"",
            headers=encode_headers(message.headers),
            reason=reason[:100],
            parked_at=utc_now(),
        )
    )
    session.flush()


def parked(session: Session, consumer: str, topic: str | None) -> list[ParkedEvent]:
    """The oldest parked events of ``consumer`` (on ``topic``, or all), in record order.

    Rows another process is retrying are skipped (PostgreSQL), never waited for.
    """
    query = select(ParkedEvent).where(ParkedEvent.consumer == consumer)
    if topic is not None:
        query = query.where(ParkedEvent.topic == topic)
    query = query.order_by(ParkedEvent.id).limit(RETRY_ROUND)
    return list(session.scalars(query.with_for_update(skip_locked=True)))


def message_of(row: ParkedEvent) -> ConsumedMessage:
    """The consumed record a parked event was."""
    return ConsumedMessage(
        topic=row.topic,
        partition=row.partition,
        offset=row.offset,
        key=row.key,
        value=row.value,
        headers=tuple(decode_headers(row.headers or [])),
    )


def unpark(session: Session, row: ParkedEvent) -> None:
    session.execute(delete(ParkedEvent).where(ParkedEvent.id == row.id))
