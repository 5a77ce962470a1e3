"""The one place that reads Faust's message: as the backbone's library-neutral record.

The batch processor (libs/events/consuming) knows nothing of Faust; the worker hands it
what this makes of each message, with the topic's logical name (the namespace prefix off).
"""

from __future__ import annotations

from typing import Any

from libs.events.consuming import ConsumedMessage
from libs.events.topics import logical_topic

__all__ = ["consumed_record"]


def consumed_record(message: Any, prefix: str) -> ConsumedMessage:
    """Faust's message as the library-neutral record, with its logical topic name."""
    headers = message.headers or ()
    if isinstance(headers, dict):
        headers = list(headers.items())
    return ConsumedMessage(
        topic=logical_topic(message.topic, prefix),
        partition=message.partition,
        offset=message.offset,
        key=message.key,
        value=message.value,
        headers=tuple((k, v or b"") for k, v in headers),
        timestamp_ms=int(message.timestamp * 1000) if message.timestamp else None,
    )
