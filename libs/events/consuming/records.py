"""A consumed batch's records as the batch processor sees them, and what became of them.

Each record is decoded once, up front: an event, or the reason it is refused (undecodable,
or not from its type's producer, libs/events/provenance.py). The outcome of a batch lists
the keys (event ids, or record positions for what has no usable id) by what was done."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from libs.events.admission import admit_record
from libs.events.codec import PermanentDecodeError
from libs.events.consuming.message import ConsumedMessage
from libs.events.consuming.processed import content_digest, fact_digest
from libs.events.envelope import CloudEvent
from libs.events.metrics import DeliveryMetrics
from libs.events.payload import Payload
from libs.events.registry import registry

__all__ = ["BatchRecord", "BatchResult", "count_outcomes", "decode_record"]


@dataclass
class BatchRecord:
    message: ConsumedMessage
    event: CloudEvent[Payload] | None = None
    error: PermanentDecodeError | None = None

    @property
    def position_key(self) -> str:
        """The claim key of a record that has no usable event id (or a refused one)."""
        return f"pos:{self.message.position}"

    @cached_property
    def digest(self) -> str | None:
        return content_digest(self.event) if self.event is not None else None

    @cached_property
    def fact_digest(self) -> str | None:
        """What the record says of its fact (``processed.fact_digest``): of a first version,
        its :attr:`digest`, computed once."""
        if self.event is None:
            return None
        if registry.by_type(self.event.type).fact_type == self.event.type:
            return self.digest
        return fact_digest(self.event)

    @property
    def event_type(self) -> str | None:
        """The event's type, or what a refused record claimed to be (None if it did not say)."""
        if self.event is not None:
            return self.event.type
        return self.error.event_type if self.error else None

    @property
    def event_id(self) -> str | None:
        """The event's id, or what a refused record claimed as its id."""
        if self.event is not None:
            return self.event.id
        return self.error.event_id if self.error else None

    @property
    def type_label(self) -> str:
        """A metric label: the event type if registered (never attacker-chosen text)."""
        if self.event is not None:
            return self.event.type
        if self.error is not None and self.error.event_type in registry:
            return self.error.event_type or "undecodable"
        return "undecodable"


@dataclass
class BatchResult:
    applied: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    dead_lettered: list[tuple[str, str]] = field(default_factory=list)
    """``(event id or record position, reason)``."""
    parked: list[str] = field(default_factory=list)
    attempts: int = 1

    def add(self, part: BatchResult) -> None:
        """Take in the outcome of a part of the batch applied on its own."""
        self.applied += part.applied
        self.duplicates += part.duplicates
        self.ignored += part.ignored
        self.dead_lettered += part.dead_lettered
        self.parked += part.parked
        self.attempts = max(self.attempts, part.attempts)


def decode_record(message: ConsumedMessage) -> BatchRecord:
    """The record's event, or why it is refused; never raises (a consumer must not exit on
    one bad record)."""
    try:
        event = admit_record(message.value, message.key, topic=message.topic)
        return BatchRecord(message, event=event)
    except PermanentDecodeError as exc:
        return BatchRecord(message, error=exc)
    except Exception as exc:  # decode() promises not to; never exit on it anyway
        detail = f"{type(exc).__name__}: {str(exc)[:300]}"
        return BatchRecord(message, error=PermanentDecodeError("undecodable", detail))


def count_outcomes(metrics: DeliveryMetrics, items: list[BatchRecord], result: BatchResult) -> None:
    """Count each record of a committed batch once, by what became of it (the metrics say
    what really happened, so only after the commit)."""
    by_key: dict[str, BatchRecord] = {}
    for item in items:
        if item.event is not None:
            by_key.setdefault(item.event.id, item)
        by_key.setdefault(item.position_key, item)
    consumed = metrics.events_consumed
    for outcome, keys in (
        ("applied", result.applied),
        ("duplicate", result.duplicates),
        ("ignored", result.ignored),
        ("dead_lettered", [k for k, _ in result.dead_lettered]),
        ("parked", result.parked),
    ):
        for key in keys:
            item = by_key[key]
            consumed.labels(item.message.topic, item.type_label, outcome).inc()
    for key, reason in result.dead_lettered:
        metrics.dead_lettered.labels(by_key[key].message.topic, reason).inc()
