"""The one test every record on an ingestion path passes: what a consumer would accept.

A member system that publishes onto Kafka itself and one that submits through the gateway
must meet the same rules, or an event accepted on one path would be dead-lettered on the
other. So the consumers decode every record with :func:`admit_record`, and the gateway runs
it on the bytes it is about to stage, before it answers the member.
"""

from __future__ import annotations

from datetime import datetime

from libs.events.codec import decode
from libs.events.envelope import CloudEvent
from libs.events.payload import Payload
from libs.events.provenance import check_provenance

__all__ = ["admit_record"]


def admit_record(
    value: bytes | None, key: bytes | None, *, topic: str | None, now: datetime | None = None
) -> CloudEvent[Payload]:
    """The record's event if every consumer would accept it: well-formed, a known type on its
    own topic, valid against the catalogue's schema, not from the future, and from the
    producer the catalogue names under the key of its subject. Raises
    :class:`~libs.events.codec.PermanentDecodeError` (with a reason code) otherwise."""
    event = decode(value, topic=topic, now=now)
    check_provenance(event, key)
    return event
