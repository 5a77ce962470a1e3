"""Dead letters: a record that cannot be processed goes to ``<topic>.dlt`` unchanged.

The dead letter keeps the original key, value and headers and adds headers saying why, where
from and when. It is staged in the outbox of the consumer's own transaction, so a dead letter
is written exactly when the consumer moves past the record, never lost, never doubled.

A record too large to carry with the added headers (one just under the broker's limit) is
dead-lettered as a reference instead: no value, and headers naming where the original still
is (``dlt-origin-*``), its size and its SHA-256 (``dlt-original-*``). Carrying it would make
the dead letter unpublishable and hold back every later event of the service.
"""

from __future__ import annotations

import hashlib

from libs.events.consuming.message import REPLAY_HEADER, ConsumedMessage
from libs.events.envelope import utc_now
from libs.events.outbox.staging import MAX_RECORD_BYTES, Header, record_size, stage_record
from libs.events.topics import dead_letter_topic
from libs.events.unit_of_work import UnitOfWork

__all__ = ["DLT_HEADER_PREFIX", "ORIGINAL_OMITTED_HEADER", "dead_letter", "dead_letter_headers"]

DLT_HEADER_PREFIX = "dlt-"
MAX_DETAIL = 2000
#: Set on a dead letter that carries a reference to its original instead of the original.
ORIGINAL_OMITTED_HEADER = "dlt-original-omitted"
#: A key longer than this is not kept on a reference-only dead letter.
MAX_KEPT_KEY = 256


def dead_letter_headers(
    message: ConsumedMessage,
    *,
    reason: str,
    detail: str,
    consumer: str,
    event_type: str | None = None,
    event_id: str | None = None,
) -> list[Header]:
    """The original headers (minus any earlier dead-letter bookkeeping) plus why and where."""
    kept = [
        (k, v)
        for k, v in message.headers
        if not k.startswith(DLT_HEADER_PREFIX) or k == REPLAY_HEADER
    ]
    added: list[Header] = [
        ("dlt-reason", reason.encode()),
        ("dlt-detail", detail[:MAX_DETAIL].encode("utf-8", "replace")),
        ("dlt-origin-topic", message.topic.encode()),
        ("dlt-origin-partition", str(message.partition).encode()),
        ("dlt-origin-offset", str(message.offset).encode()),
        ("dlt-consumer", consumer.encode()),
        ("dlt-time", utc_now().isoformat().replace("+00:00", "Z").encode()),
    ]
    if event_type:
        added.append(("dlt-event-type", event_type.encode()))
    if event_id:
        added.append(("dlt-event-id", event_id.encode()))
    return kept + added


def dead_letter(
    uow: UnitOfWork,
    message: ConsumedMessage,
    *,
    reason: str,
    detail: str,
    consumer: str,
    event_type: str | None = None,
    event_id: str | None = None,
) -> None:
    """Stage ``message`` for its dead-letter topic in ``uow``'s transaction."""
    key, value = message.key, message.value if message.value is not None else b""
    headers = dead_letter_headers(
        message,
        reason=reason,
        detail=detail,
        consumer=consumer,
        event_type=event_type,
        event_id=event_id,
    )
    if record_size(key, value, headers) > MAX_RECORD_BYTES:
        key, value, headers = _reference_to(message, headers)
    stage_record(
        uow.session,
        topic=dead_letter_topic(message.topic),
        key=key,
        value=value,
        headers=headers,
        event_id=event_id,
        event_type=event_type,
    )
    uow.note_staged()


def _reference_to(
    message: ConsumedMessage, headers: list[Header]
) -> tuple[bytes | None, bytes, list[Header]]:
    """A dead letter naming the original (which stays on its topic) instead of carrying it."""
    value = message.value or b""
    original_headers = sum(len(k) + len(v or b"") for k, v in message.headers)
    ours = [(k, v) for k, v in headers if k.startswith(DLT_HEADER_PREFIX)]
    ours += [
        (ORIGINAL_OMITTED_HEADER, b"too_large"),
        ("dlt-original-bytes", str(len(value)).encode()),
        ("dlt-original-sha256", hashlib.sha256(value).hexdigest().encode()),
        ("dlt-original-header-bytes", str(original_headers).encode()),
    ]
    key = message.key if message.key is not None and len(message.key) <= MAX_KEPT_KEY else None
    return key, b"", ours
