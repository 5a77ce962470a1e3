"""Who may say what: an event is believed only from the producer the catalogue names.

The catalogue names one producer per event type: a service of the suite, whose events carry
the source ``/services/<name>``, or ``his``, a member's hospital information system, whose
events carry ``/his/<facility id>`` and may speak only for that facility (the ingestion
types are keyed by it). The record key must be the event's subject, the aggregate id the
topic is partitioned by: a record keyed otherwise lands beside other aggregates' events and
outside the order of its own.

With authentication and ACLs on, the Kafka cluster already refuses a principal writing a
topic it does not own; this check is the consumers' half (a service's own credentials could
still be misused, or a tool could copy records across topics), and the only one on the
embedded Tansu broker, which enforces nothing.
"""

from __future__ import annotations

from libs.events.codec import PermanentDecodeError
from libs.events.envelope import CloudEvent
from libs.events.payload import Payload
from libs.events.registry import registry

__all__ = ["EDGE_PRODUCER", "check_provenance", "producer_source", "source_for"]

#: The producer name of hospital information systems in the catalogue.
EDGE_PRODUCER = "his"


def source_for(event_type: str, subject: str) -> str:
    """The only source an event of ``event_type`` about ``subject`` may carry."""
    producer = registry.by_type(event_type).producer
    if producer == EDGE_PRODUCER:
        return f"/his/{subject}"
    return f"/services/{producer}"


def producer_source(payload: Payload) -> str:
    """The source an event carrying ``payload`` must have (for tools and tests that speak
    for a producer)."""
    spec = registry.for_payload(payload)
    return source_for(spec.type, spec.key_of(payload))


def check_provenance(event: CloudEvent[Payload], key: bytes | None) -> None:
    """Raise ``forged_source`` unless ``event`` comes from its type's producer under the
    key of its subject."""
    expected = source_for(event.type, event.subject)
    former = registry.by_type(event.type).former_producers
    if event.source != expected and event.source not in {f"/services/{p}" for p in former}:
        raise PermanentDecodeError(
            "forged_source",
            f"{event.type} is published by {expected}, not {event.source[:100]}",
            event_type=event.type,
            event_id=event.id,
        )
    if key != event.subject.encode("utf-8"):
        shown = key[:64].decode("utf-8", "replace") if key is not None else None
        raise PermanentDecodeError(
            "forged_source",
            f"record key {shown!r} is not the event's subject {event.subject!r}",
            event_type=event.type,
            event_id=event.id,
        )
