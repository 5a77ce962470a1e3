"""The CloudEvents 1.0 envelope and the one constructor every event is built with.

Structured JSON mode: the whole event, attributes and ``data``, is the Kafka record value;
the record key is the aggregate id (the envelope ``subject``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Generic, TypeVar

from libs.events.payload import Payload
from libs.events.registry import registry

__all__ = ["CloudEvent", "new_event", "utc_now"]

P = TypeVar("P", bound=Payload)
#: Events are read-only, so an event of a specific payload is an event of any payload.
P_co = TypeVar("P_co", bound=Payload, covariant=True)

SPECVERSION = "1.0"
CONTENT_TYPE = "application/json"


def utc_now() -> datetime:
    """The current time, zone-aware, in UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class CloudEvent(Generic[P_co]):
    """One event: CloudEvents attributes plus a typed payload.

    ``correlation_id`` ties together everything one outside request (an HTTP call, a visit
    arriving from a hospital system) caused; ``causation_id`` is the id of the event that
    directly caused this one (its own id for a root event).
    """

    id: str
    source: str
    type: str
    time: datetime
    subject: str
    correlation_id: str
    causation_id: str
    data: P_co
    specversion: str = field(default=SPECVERSION)
    datacontenttype: str = field(default=CONTENT_TYPE)

    @property
    def topic(self) -> str:
        """The topic this event is published on."""
        return registry.by_type(self.type).topic

    @property
    def key(self) -> str:
        """The Kafka record key: the aggregate id."""
        return self.subject


def new_event(
    data: P,
    *,
    source: str,
    subject: str | None = None,
    caused_by: CloudEvent[Payload] | None = None,
    correlation_id: str | None = None,
    time: datetime | None = None,
    event_id: str | None = None,
) -> CloudEvent[P]:
    """Build an event around ``data``; the only way events are constructed.

    The type name and the subject come from the registry (the payload's key field).
    ``caused_by`` chains the new event to the event being handled: it inherits that event's
    correlation id and names it as its cause. Without it the event starts a new chain,
    correlated to ``correlation_id`` when one is given (e.g. an HTTP request id).
    """
    spec = registry.for_payload(data)
    if not source.startswith("/"):
        raise ValueError(f"source must be a URI path such as /services/pharmacy, not {source!r}")
    new_id = event_id or str(uuid.uuid4())
    when = time or utc_now()
    if when.tzinfo is None:
        raise ValueError("event time must be zone-aware")
    if caused_by is not None:
        correlation, causation = caused_by.correlation_id, caused_by.id
    else:
        correlation, causation = correlation_id or new_id, new_id
    return CloudEvent(
        id=new_id,
        source=source,
        type=spec.type,
        time=when.astimezone(UTC),
        subject=subject if subject is not None else spec.key_of(data),
        correlation_id=correlation,
        causation_id=causation,
        data=data,
    )
