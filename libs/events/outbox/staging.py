"""Writing records into the outbox, inside the caller's transaction."""

from __future__ import annotations

import base64
from collections.abc import Sequence

from sqlalchemy.orm import Session

from libs.events.codec import encode, headers_for
from libs.events.envelope import CloudEvent, utc_now
from libs.events.payload import Payload
from libs.events.retry import PermanentError
from libs.events.tables import OutboxRecord

__all__ = [
    "MAX_RECORD_BYTES",
    "Header",
    "RecordTooLarge",
    "decode_headers",
    "encode_headers",
    "record_size",
    "stage_event",
    "stage_record",
]

Header = tuple[str, bytes]

#: The largest record (key, value and headers) the outbox takes. The relay's producer sends at
#: most 1 MiB a request (``max_request_size``) and the brokers take at most
#: ``message.max.bytes`` (infra/kafka/broker.env) a batch; a record over either would be
#: refused on every attempt and hold back every later event of the service, so it is refused
#: here, in the transaction that would have written it, with room left for the framing.
MAX_RECORD_BYTES = 1_000_000


class RecordTooLarge(PermanentError):
    """A record too large to publish. Raised by a handler, it dead-letters its cause."""

    def __init__(self, topic: str, size: int) -> None:
        super().__init__("too_large_to_publish", f"{size} bytes for {topic} > {MAX_RECORD_BYTES}")
        self.size = size


def record_size(key: bytes | None, value: bytes, headers: Sequence[Header]) -> int:
    """The bytes a record carries (what the producer's size check counts, near enough)."""
    return len(key or b"") + len(value) + sum(len(k) + len(v or b"") for k, v in headers)


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
    """Add a raw record (e.g. a dead letter carrying the original bytes) to the outbox;
    :class:`RecordTooLarge` if it could never be published."""
    size = record_size(key, value, headers)
    if size > MAX_RECORD_BYTES:
        raise RecordTooLarge(topic, size)
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
