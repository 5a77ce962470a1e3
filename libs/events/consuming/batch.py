"""Applying a batch of consumed records: idempotent, transactional, never raising.

One batch is one transaction: the processed-event claims, every handler's effects, the
events handlers publish and any dead letters commit together, or none of them do.

- A record that cannot be decoded, or whose source or key is not its type's producer's
  (libs/events/provenance.py), is dead-lettered at once (its position is claimed, so a
  redelivery of the same record is not dead-lettered twice).
- An event this consumer already applied is skipped and counted as a duplicate; so is a
  second copy inside the batch. An id seen before with other content (type, subject or data)
  is no copy: it is dead-lettered as ``conflicting_duplicate``.
- So is a fact applied before under another event id, for types whose catalogue entry names
  the fact (``EventSpec.identity``: hospital systems resend a visit under a new id): the
  same content is a duplicate, other content is dead-lettered as ``conflicting_fact`` (a
  correction is a new fact, never a resend).
- A handler raising :class:`~libs.events.retry.PermanentError` (or a validation error) has
  its effects rolled back to a savepoint and the event dead-lettered.
- A handler raising :class:`~libs.events.retry.NotYetKnown` for an event of a service of the
  suite has its effects rolled back and the event parked, with every later event of its key
  behind it (libs/events/consuming/parking.py); the rest of the batch goes on.
- Any other failure rolls the whole batch back and retries it with backoff: forever while
  the database is unreachable (the consumer pauses, it never skips), and up to
  ``max_attempts`` for other errors, after which only the failing event is dead-lettered.
- A batch that still fails after that, outside any handler (in a unit of work's commit, say),
  is applied record by record; a record that fails on its own is dead-lettered alone.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property

import structlog

from libs.events.codec import PermanentDecodeError, decode
from libs.events.consuming.dead_letters import dead_letter
from libs.events.consuming.handlers import HandlerRegistry
from libs.events.consuming.message import ConsumedMessage
from libs.events.consuming.parking import (
    BEHIND_PARKED,
    PARKED,
    message_of,
    park,
    park_key,
    parked,
    parked_keys,
    unpark,
)
from libs.events.consuming.processed import (
    APPLIED,
    DEAD_LETTERED,
    claim,
    claim_fact,
    content_digest,
    digests_of,
    outcomes_of,
    set_outcome,
)
from libs.events.envelope import CloudEvent, utc_now
from libs.events.metrics import DeliveryMetrics
from libs.events.payload import Payload
from libs.events.provenance import EDGE_PRODUCER, check_provenance
from libs.events.registry import registry
from libs.events.retry import (
    Backoff,
    NotYetKnown,
    PermanentError,
    is_infrastructure_error,
    is_permanent_error,
)
from libs.events.unit_of_work import UnitOfWork

__all__ = ["BatchProcessor", "BatchResult", "ProcessingStopped"]


def _vouched_for(event: CloudEvent[Payload]) -> bool:
    """The event comes from a service of the suite, which knew what the event names (what a
    hospital system names unknown is unknown, not late)."""
    return event.type in registry and registry.by_type(event.type).producer != EDGE_PRODUCER


log = structlog.get_logger("consumer")


class ProcessingStopped(Exception):
    """The worker is stopping while a batch could not be applied: do not acknowledge it."""


@dataclass
class _Item:
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


#: What :meth:`BatchProcessor._apply_one` returns for a fact applied before under another id.
_SAME_FACT = ("same_fact", "")


class _MustWait(Exception):
    """The event names master data not known yet, and its producer knew it: park it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class BatchProcessor:
    """Applies batches for one consumer (one service); call :meth:`process` from a thread."""

    def __init__(
        self,
        *,
        consumer: str,
        handlers: HandlerRegistry,
        uow_factory: Callable[[], UnitOfWork],
        metrics: DeliveryMetrics,
        max_attempts: int = 5,
        stop: threading.Event | None = None,
        reference_grace_s: float = 60.0,
        topic: str | None = None,
    ) -> None:
        self.consumer = consumer
        self.topic = topic
        """The topic whose parked events :meth:`retry_parked` retries (None: all)."""
        self._handlers = handlers
        self._uow_factory = uow_factory
        self._metrics = metrics
        self._max_attempts = max_attempts
        self._reference_grace_s = reference_grace_s
        self._stop = stop or threading.Event()
        # A batch and a retry of parked events must not interleave on one key.
        self._lock = threading.Lock()

    def process(self, messages: Sequence[ConsumedMessage]) -> BatchResult:
        """Apply ``messages`` (in order) and commit; retries until it succeeds.

        Raises :class:`ProcessingStopped` only if the worker stops while retrying.
        """
        items = [self._decode(message) for message in messages]
        topic = messages[0].topic if messages else ""
        started = time.perf_counter()
        with self._lock:
            result = self._process_items(items, topic)
        self._metrics.batch_seconds.labels(topic).observe(time.perf_counter() - started)
        self._count(items, result)
        return result

    def _process_items(self, items: list[_Item], topic: str) -> BatchResult:
        backoff = Backoff(initial_s=0.1, maximum_s=30.0)
        attempt = 0
        while True:
            attempt += 1
            try:
                with self._uow_factory() as uow:
                    result = self._apply(uow, items, last_chance=attempt >= self._max_attempts)
                    uow.commit()
                result.attempts = attempt
                return result
            except Exception as exc:
                infrastructure = is_infrastructure_error(exc)
                kind = "infrastructure" if infrastructure else "handler"
                self._metrics.consume_retries.labels(topic, kind).inc()
                if not infrastructure and attempt > self._max_attempts:
                    # Even the attempt that dead-letters failing handlers failed: the fault is
                    # outside them (a commit, a unit of work). Find the record that causes it
                    # rather than retry the whole batch for ever.
                    return self._isolate(items, topic, exc)
                delay = backoff.next()
                log.warning(
                    "batch failed; rolled back and retrying",
                    consumer=self.consumer,
                    topic=topic,
                    attempt=attempt,
                    kind=kind,
                    error=repr(exc)[:500],
                    retry_in_s=round(delay, 2),
                )
                if self._stop.wait(delay):
                    raise ProcessingStopped(f"stopped while retrying a batch of {topic}") from exc

    def _isolate(self, items: list[_Item], topic: str, exc: Exception) -> BatchResult:
        """Apply the records one by one, in order; dead-letter one that fails on its own."""
        if len(items) == 1:
            return self._dead_letter_alone(items[0], topic, exc)
        log.error(
            "a batch keeps failing outside its handlers; applying its records one by one",
            consumer=self.consumer,
            topic=topic,
            records=len(items),
            error=repr(exc)[:500],
        )
        merged = BatchResult()
        for item in items:
            part = self._process_items([item], topic)
            merged.applied += part.applied
            merged.duplicates += part.duplicates
            merged.ignored += part.ignored
            merged.dead_lettered += part.dead_lettered
            merged.parked += part.parked
            merged.attempts = max(merged.attempts, part.attempts)
        return merged

    def _dead_letter_alone(self, item: _Item, topic: str, exc: Exception) -> BatchResult:
        """Record ``item`` as dead-lettered in a transaction of its own, without its handlers
        (the base unit of work commits it, not a service's override that may be the fault)."""
        key = item.event.id if item.event is not None else item.position_key
        backoff = Backoff(initial_s=0.1, maximum_s=30.0)
        while True:
            result = BatchResult()
            try:
                with self._uow_factory() as uow:
                    if claim(uow.session, self.consumer, [key]):
                        self._dead_letter(
                            uow, item, key, "exhausted_retries", repr(exc)[:1000], result
                        )
                    else:
                        result.duplicates.append(key)
                    UnitOfWork.commit(uow)
                return result
            except Exception as failure:
                log.warning(
                    "could not dead-letter a failing record; retrying",
                    consumer=self.consumer,
                    topic=topic,
                    error=repr(failure)[:300],
                )
                if self._stop.wait(backoff.next()):
                    raise ProcessingStopped(f"stopped while dead-lettering on {topic}") from exc

    def _decode(self, message: ConsumedMessage) -> _Item:
        try:
            event = decode(message.value, topic=message.topic)
            check_provenance(event, message.key)
            return _Item(message, event=event)
        except PermanentDecodeError as exc:
            return _Item(message, error=exc)
        except Exception as exc:  # decode() promises not to; never exit on it anyway
            detail = f"{type(exc).__name__}: {str(exc)[:300]}"
            return _Item(message, error=PermanentDecodeError("undecodable", detail))

    def _apply(
        self,
        uow: UnitOfWork,
        items: list[_Item],
        *,
        last_chance: bool,
    ) -> BatchResult:
        result = BatchResult()
        session = uow.session
        # 1. What needs a claim: undecodable records by position, handled events by id
        #    (first copy only). Types this service does not handle are not recorded.
        to_claim: dict[str, _Item] = {}
        copies: list[_Item] = []  # later records of an id already in this batch
        for item in items:
            if item.event is None:
                to_claim.setdefault(item.position_key, item)
            elif not self._handlers.get(item.event.type):
                result.ignored.append(item.event.id)
            elif item.event.id in to_claim:
                copies.append(item)
            else:
                to_claim[item.event.id] = item
        new = claim(session, self.consumer, {k: item.digest for k, item in to_claim.items()})
        # What each id said when first processed: before, or first in this batch. A record of
        # the id saying anything else is no copy (see _refuse_conflicting).
        said = {key: item.digest for key, item in to_claim.items()}
        said |= digests_of(session, self.consumer, [k for k in to_claim if k not in new])
        conflicting = []
        for item in copies:
            assert item.event is not None
            if said[item.event.id] == item.digest:
                result.duplicates.append(item.event.id)
            else:
                conflicting.append(item)
        # A replayed dead letter re-applies an event this consumer dead-lettered before.
        replayed = [
            key
            for key, item in to_claim.items()
            if key not in new and item.event is not None and item.message.is_replay
        ]
        reopened = {
            key
            for key, outcome in outcomes_of(session, self.consumer, replayed).items()
            if outcome == DEAD_LETTERED
        }
        waiting = parked_keys(
            session, self.consumer, (park_key(i.message) for i in to_claim.values() if i.event)
        )
        # 2. Apply, in record order.
        for key, item in to_claim.items():
            if key not in new and key not in reopened:
                if said[key] != item.digest:
                    conflicting.append(item)
                else:
                    result.duplicates.append(key)
                continue
            if item.event is None:
                assert item.error is not None
                self._dead_letter(uow, item, key, item.error.reason, item.error.detail, result)
                continue
            if park_key(item.message) in waiting:
                self._park(uow, item, BEHIND_PARKED, result)
                continue
            try:
                outcome = self._apply_one(uow, item.event, last_chance=last_chance)
            except _MustWait as wait:
                self._park(uow, item, wait.reason, result)
                waiting.add(park_key(item.message))
                continue
            if outcome is _SAME_FACT:
                result.duplicates.append(key)
            elif outcome is None:
                if key in reopened:  # a replay, perhaps of a corrected event
                    set_outcome(session, self.consumer, key, APPLIED, item.digest)
                result.applied.append(key)
            else:
                self._dead_letter(uow, item, key, outcome[0], outcome[1], result)
        self._refuse_conflicting(uow, conflicting, result)
        return result

    def _park(self, uow: UnitOfWork, item: _Item, reason: str, result: BatchResult) -> None:
        assert item.event is not None
        park(uow.session, self.consumer, item.message, item.event.id, reason)
        set_outcome(uow.session, self.consumer, item.event.id, PARKED)
        result.parked.append(item.event.id)
        log.info("event parked", consumer=self.consumer, reason=reason, event_id=item.event.id)

    def retry_parked(self) -> BatchResult:
        """Apply parked events whose wait is over, per key in record order, in one
        transaction; a head still waiting after the grace period is dead-lettered and those
        behind it go on. Raises (the caller retries later) if the database fails."""
        result, counted = BatchResult(), []
        with self._lock, self._uow_factory() as uow:
            blocked: set[str] = set()  # keys whose head still waits
            for row in parked(uow.session, self.consumer, self.topic):
                if row.park_key in blocked:
                    continue
                item = self._decode(message_of(row))
                try:
                    outcome = self._retry_one(uow, item, row.parked_at)
                except _MustWait:
                    blocked.add(row.park_key)
                    continue
                unpark(uow.session, row)
                if outcome is None or outcome is _SAME_FACT:
                    set_outcome(uow.session, self.consumer, row.event_id, APPLIED)
                    result.applied.append(row.event_id)
                else:
                    self._dead_letter(uow, item, row.event_id, *outcome, result)
                counted.append((row.topic, item.type_label, outcome))
            uow.commit()
        for topic, type_label, outcome in counted:  # after the commit: what really happened
            done = "applied" if outcome is None else "dead_lettered"
            self._metrics.events_consumed.labels(topic, type_label, f"unparked_{done}").inc()
            if outcome is not None:
                self._metrics.dead_lettered.labels(topic, outcome[0]).inc()
        return result

    def _retry_one(
        self, uow: UnitOfWork, item: _Item, parked_at: datetime
    ) -> tuple[str, str] | None:
        if item.event is None:  # it decoded when parked: only a changed rule can refuse it now
            return (item.error.reason, item.error.detail) if item.error else ("undecodable", "")
        waited = utc_now() - parked_at.replace(tzinfo=parked_at.tzinfo or UTC)
        final = waited >= timedelta(seconds=self._reference_grace_s)
        return self._apply_one(uow, item.event, last_chance=final, final=final)

    def _refuse_conflicting(self, uow: UnitOfWork, items: list[_Item], result: BatchResult) -> None:
        """An event id reused for other content is a broken (or lying) producer, not a
        redelivery: dead-letter the record (claimed by its position, once) so it is seen."""
        new = claim(uow.session, self.consumer, [item.position_key for item in items])
        for item in items:
            if item.position_key not in new:
                result.duplicates.append(item.position_key)
                continue
            detail = f"event id {item.event.id if item.event else '?'} was processed before "
            detail += "with other content (type, subject or data)"
            self._dead_letter(uow, item, item.position_key, "conflicting_duplicate", detail, result)

    def _apply_one(
        self,
        uow: UnitOfWork,
        event: CloudEvent[Payload],
        *,
        last_chance: bool,
        final: bool = False,
    ) -> tuple[str, str] | None:
        """Run the handler under a savepoint; ``(reason, detail)`` if it must be dead-lettered.

        Raises :class:`_MustWait` if it names master data not known yet and its producer
        knew it (unless ``final``: the wait is over)."""
        handlers = self._handlers.get(event.type)
        structlog.contextvars.bind_contextvars(
            event_id=event.id, event_type=event.type, correlation_id=event.correlation_id
        )
        uow.cause = event
        savepoint = uow.session.begin_nested()
        started = time.perf_counter()
        try:
            seen = self._seen_fact(uow, event)
            if seen is not None:
                savepoint.commit()
                return seen
            for handler in handlers:
                handler(event.data, uow)
            savepoint.commit()
            return None
        except Exception as exc:
            savepoint.rollback()
            if isinstance(exc, NotYetKnown) and not final and _vouched_for(event):
                raise _MustWait(exc.reason) from exc
            if isinstance(exc, PermanentError):
                return exc.reason, exc.detail
            if is_permanent_error(exc):
                return "handler_rejected", repr(exc)[:1000]
            if last_chance and not is_infrastructure_error(exc):
                log.error("handler keeps failing; dead-lettering the event", error=repr(exc)[:500])
                return "exhausted_retries", repr(exc)[:1000]
            raise
        finally:
            self._metrics.event_handle_seconds.labels(event.type).observe(
                time.perf_counter() - started
            )
            uow.cause = None
            structlog.contextvars.unbind_contextvars("event_id", "event_type", "correlation_id")

    def _seen_fact(self, uow: UnitOfWork, event: CloudEvent[Payload]) -> tuple[str, str] | None:
        """Claim the fact ``event`` states, if its type names one: ``None`` when it is new
        (the claim goes with the event's savepoint), else a duplicate or a conflict."""
        fact = registry.by_type(event.type).fact_of(event.data)
        if fact is None:
            return None
        digest = content_digest(event)
        earlier = claim_fact(uow.session, self.consumer, fact, event.id, digest)
        if earlier is None:
            return None
        if earlier[1] == digest:
            return _SAME_FACT
        detail = f"{fact} was applied from event {earlier[0]} with other content; "
        detail += "a correction is a new fact, not a resend"
        return "conflicting_fact", detail

    def _dead_letter(
        self,
        uow: UnitOfWork,
        item: _Item,
        key: str,
        reason: str,
        detail: str,
        result: BatchResult,
    ) -> None:
        event_type = (
            item.event.type if item.event else (item.error.event_type if item.error else None)
        )
        event_id = item.event.id if item.event else (item.error.event_id if item.error else None)
        dead_letter(
            uow,
            item.message,
            reason=reason,
            detail=detail,
            consumer=self.consumer,
            event_type=event_type,
            event_id=event_id,
        )
        set_outcome(uow.session, self.consumer, key, DEAD_LETTERED)
        result.dead_lettered.append((key, reason))
        log.warning(
            "record dead-lettered",
            consumer=self.consumer,
            reason=reason,
            origin=item.message.position,
            event_type=event_type,
            event_id=event_id,
        )

    def _count(self, items: list[_Item], result: BatchResult) -> None:
        by_key: dict[str, _Item] = {}
        for item in items:
            if item.event is not None:
                by_key.setdefault(item.event.id, item)
            by_key.setdefault(item.position_key, item)
        consumed = self._metrics.events_consumed
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
            self._metrics.dead_lettered.labels(by_key[key].message.topic, reason).inc()
