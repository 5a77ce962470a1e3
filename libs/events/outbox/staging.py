"""Writing records into the outbox, inside the caller's transaction."""

from __future__ import annotations

import base64
from collections.abc import Sequence

from sqlalchemy.orm import Session

from libs.events.codec import encode, headers_for
from libs.events.envelope import CloudEvent, utc_now
from libs.events.payload import Payload
from libs.events.tables import OutboxRecord

__all__ = ["Header", "decode_headers", "encode_headers", "stage_event", "stage_record"]

Header = tuple[str, bytes]


def encode_headers(headers: Sequence[Header]) -> list[list[str]]:
    """Headers as JSON-safe ``[name, base64(value)]`` pairs (values are arbitrary bytes)."""
    return [[name, base64.b64encode(value or b"").decode("ascii")] for name, value in headers]


def decode_headers(stored: Sequence[Sequence[str]]) -> list[Header]:
    """The inverse of :func:`encode_headers`."""
    return [(name, base64.b64decode(value)) for name, value in stored]


def stage_event(session: Session, event: CloudEvent[Payload]) -> OutboxRecord:
    """Add ``event`` to the outbox; it is published only if the session's transaction commits."""
    return stage_record(
        session,
        topic=event.topic,
        key=event.key.encode("utf-8"),
        value=encode(event),
        headers=headers_for(event),
        event_id=event.id,
        event_type=event.type,
    )


def stage_record(
    session: Session,
    *,
    topic: str,
    key: bytes | None,
    value: bytes,
    headers: Sequence[Header] = (),
    event_id: str | None = None,
    event_type: str | None = None,
) -> OutboxRecord:
    """Add a raw record (e.g. a dead letter carrying the original bytes) to the outbox."""
    record = OutboxRecord(
        topic=topic,
        key=key,
        value=value,
        headers=encode_headers(headers),
        event_id=event_id,
        event_type=event_type,
        created_at=utc_now(),
    )
    session.add(record)
    return record
