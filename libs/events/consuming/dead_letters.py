"""Dead letters: a record that cannot be processed goes to ``<topic>.dlt`` unchanged.

The dead letter keeps the original key, value and headers and adds headers saying why, where
from and when. It is staged in the outbox of the consumer's own transaction, so a dead letter
is written exactly when the consumer moves past the record, never lost, never doubled.
"""

from __future__ import annotations

from libs.events.consuming.message import REPLAY_HEADER, ConsumedMessage
from libs.events.envelope import utc_now
from libs.events.outbox.staging import Header, stage_record
from libs.events.topics import dead_letter_topic
from libs.events.unit_of_work import UnitOfWork

__all__ = ["DLT_HEADER_PREFIX", "dead_letter", "dead_letter_headers"]

DLT_HEADER_PREFIX = "dlt-"
MAX_DETAIL = 2000


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
    stage_record(
        uow.session,
        topic=dead_letter_topic(message.topic),
        key=message.key,
        value=message.value if message.value is not None else b"",
        headers=dead_letter_headers(
            message,
            reason=reason,
            detail=detail,
            consumer=consumer,
            event_type=event_type,
            event_id=event_id,
        ),
        event_id=event_id,
        event_type=event_type,
    )
    uow.note_staged()
