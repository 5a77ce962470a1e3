"""Applying a batch of consumed records: idempotent, transactional, never raising.

One batch is one transaction: the processed-event claims, every handler's effects, the
events handlers publish and any dead letters commit together, or none of them do.

- A record that cannot be decoded is dead-lettered at once (its position is claimed, so a
  redelivery of the same record is not dead-lettered twice).
- An event this consumer already applied is skipped and counted as a duplicate; so is a
  second copy inside the batch.
- A handler raising :class:`~libs.events.retry.PermanentError` (or a validation error) has
  its effects rolled back to a savepoint and the event dead-lettered.
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

import structlog

from libs.events.codec import PermanentDecodeError, decode
from libs.events.consuming.dead_letters import dead_letter
from libs.events.consuming.handlers import HandlerRegistry
from libs.events.consuming.message import ConsumedMessage
from libs.events.consuming.processed import (
    APPLIED,
    DEAD_LETTERED,
    claim,
    outcomes_of,
    set_outcome,
)
from libs.events.envelope import CloudEvent
from libs.events.metrics import DeliveryMetrics
from libs.events.payload import Payload
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

#: Producers outside the suite: what they name unknown is unknown, not late.
EDGE_PRODUCERS = frozenset({"his"})


def _vouched_for(event: CloudEvent[Payload]) -> bool:
    """The event comes from a service of the suite, which knew what the event names."""
    return event.type in registry and registry.by_type(event.type).producer not in EDGE_PRODUCERS


log = structlog.get_logger("consumer")


class ProcessingStopped(Exception):
    """The worker is stopping while a batch could not be applied: do not acknowledge it."""


@dataclass
class _Item:
    message: ConsumedMessage
    event: CloudEvent[Payload] | None = None
    error: PermanentDecodeError | None = None

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
    attempts: int = 1


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
    ) -> None:
        self.consumer = consumer
        self._handlers = handlers
        self._uow_factory = uow_factory
        self._metrics = metrics
        self._max_attempts = max_attempts
        self._reference_grace_s = reference_grace_s
        self._stop = stop or threading.Event()

    def process(self, messages: Sequence[ConsumedMessage]) -> BatchResult:
        """Apply ``messages`` (in order) and commit; retries until it succeeds.

        Raises :class:`ProcessingStopped` only if the worker stops while retrying.
        """
        items = [self._decode(message) for message in messages]
        topic = messages[0].topic if messages else ""
        started = time.perf_counter()
        result = self._process_items(items, topic)
        self._metrics.batch_seconds.labels(topic).observe(time.perf_counter() - started)
        self._count(items, result)
        return result

    def _process_items(self, items: list[_Item], topic: str) -> BatchResult:
        backoff = Backoff(initial_s=0.1, maximum_s=30.0)
        attempt = 0
        first = time.monotonic()
        while True:
            attempt += 1
            waited_enough = time.monotonic() - first >= self._reference_grace_s
            try:
                with self._uow_factory() as uow:
                    result = self._apply(
                        uow,
                        items,
                        last_chance=attempt >= self._max_attempts,
                        references_final=waited_enough,
                    )
                    uow.commit()
                result.attempts = attempt
                return result
            except Exception as exc:
                infrastructure = is_infrastructure_error(exc)
                kind = "infrastructure" if infrastructure else "handler"
                if isinstance(exc, NotYetKnown):
                    kind = "reference"  # waiting for master data: not a failed attempt
                    attempt -= 1
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
            merged.attempts = max(merged.attempts, part.attempts)
        return merged

    def _dead_letter_alone(self, item: _Item, topic: str, exc: Exception) -> BatchResult:
        """Record ``item`` as dead-lettered in a transaction of its own, without its handlers
        (the base unit of work commits it, not a service's override that may be the fault)."""
        key = item.event.id if item.event is not None else f"pos:{item.message.position}"
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
            return _Item(message, event=decode(message.value, topic=message.topic))
        except PermanentDecodeError as exc:
            return _Item(message, error=exc)

    def _apply(
        self,
        uow: UnitOfWork,
        items: list[_Item],
        *,
        last_chance: bool,
        references_final: bool = True,
    ) -> BatchResult:
        result = BatchResult()
        session = uow.session
        # 1. What needs a claim: undecodable records by position, handled events by id
        #    (first copy only). Types this service does not handle are not recorded.
        to_claim: dict[str, _Item] = {}
        for item in items:
            if item.event is None:
                to_claim.setdefault(f"pos:{item.message.position}", item)
            elif not self._handlers.get(item.event.type):
                result.ignored.append(item.event.id)
            elif item.event.id in to_claim:
                result.duplicates.append(item.event.id)
            else:
                to_claim[item.event.id] = item
        new = claim(session, self.consumer, to_claim)
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
        # 2. Apply, in record order.
        for key, item in to_claim.items():
            if key not in new and key not in reopened:
                result.duplicates.append(key)
                continue
            if item.event is None:
                assert item.error is not None
                self._dead_letter(uow, item, key, item.error.reason, item.error.detail, result)
                continue
            outcome = self._apply_one(
                uow, item.event, last_chance=last_chance, references_final=references_final
            )
            if outcome is None:
                if key in reopened:
                    set_outcome(session, self.consumer, key, APPLIED)
                result.applied.append(key)
            else:
                self._dead_letter(uow, item, key, outcome[0], outcome[1], result)
        return result

    def _apply_one(
        self,
        uow: UnitOfWork,
        event: CloudEvent[Payload],
        *,
        last_chance: bool,
        references_final: bool = True,
    ) -> tuple[str, str] | None:
        """Run the handler under a savepoint; ``(reason, detail)`` if it must be dead-lettered."""
        handlers = self._handlers.get(event.type)
        structlog.contextvars.bind_contextvars(
            event_id=event.id, event_type=event.type, correlation_id=event.correlation_id
        )
        uow.cause = event
        savepoint = uow.session.begin_nested()
        started = time.perf_counter()
        try:
            for handler in handlers:
                handler(event, uow)
            savepoint.commit()
            return None
        except Exception as exc:
            savepoint.rollback()
            if isinstance(exc, NotYetKnown) and not references_final and _vouched_for(event):
                raise
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
            key = item.event.id if item.event else f"pos:{item.message.position}"
            by_key.setdefault(key, item)
        consumed = self._metrics.events_consumed
        for outcome, keys in (
            ("applied", result.applied),
            ("duplicate", result.duplicates),
            ("ignored", result.ignored),
            ("dead_lettered", [k for k, _ in result.dead_lettered]),
        ):
            for key in keys:
                item = by_key[key]
                consumed.labels(item.message.topic, item.type_label, outcome).inc()
        for key, reason in result.dead_lettered:
            self._metrics.dead_lettered.labels(by_key[key].message.topic, reason).inc()
