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
- Consecutive new records of a type with a set handler are applied together under one
  savepoint (``sets.py``, ``set_application.py``); if that fails, they are applied one by
  one as below, so one bad record is still dead-lettered alone.
- A handler raising :class:`~libs.events.retry.NotYetKnown` for an event of a service of the
  suite has its effects rolled back and the event parked, with every later event of its key
  behind it (libs/events/consuming/parking.py); the rest of the batch goes on.
- Any other failure rolls the whole batch back and retries it with backoff: forever while
  the database is unreachable (the consumer pauses, it never skips), and up to
  ``max_attempts`` for other errors, after which only the failing event is dead-lettered.
- A batch that still fails after that, outside any handler (in a unit of work's commit, say),
  is applied record by record; a record that fails on its own is dead-lettered alone.

The records and their outcomes are in ``records.py``; sorting them, in ``triage.py``; one
event's handlers, in ``handling.py``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

import structlog

from libs.events.consuming.dead_letters import dead_letter
from libs.events.consuming.handlers import HandlerRegistry
from libs.events.consuming.handling import SAME_FACT, EventHandling, MustWait
from libs.events.consuming.message import ConsumedMessage
from libs.events.consuming.parking import (
    BEHIND_PARKED,
    PARKED,
    message_of,
    park,
    park_key,
    parked,
    unpark,
)
from libs.events.consuming.processed import (
    APPLIED,
    DEAD_LETTERED,
    claim,
    claim_fact,
    set_outcome,
)
from libs.events.consuming.records import BatchRecord, BatchResult, count_outcomes, decode_record
from libs.events.consuming.set_application import apply_set
from libs.events.consuming.triage import Triage, triage
from libs.events.envelope import utc_now
from libs.events.metrics import DeliveryMetrics
from libs.events.retry import Backoff, is_infrastructure_error
from libs.events.unit_of_work import UnitOfWork

__all__ = ["BatchProcessor", "BatchResult", "ProcessingStopped"]

log = structlog.get_logger("consumer")


class ProcessingStopped(Exception):
    """The worker is stopping while a batch could not be applied: do not acknowledge it."""


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
        # claim_fact is taken from this module's names when the processor is made, so that
        # tests/support/without_dedup.py can break fact deduplication by replacing it here.
        self._handling = EventHandling(consumer, handlers, metrics, claim_fact)
        # A batch and a retry of parked events must not interleave on one key.
        self._lock = threading.Lock()

    def process(self, messages: Sequence[ConsumedMessage]) -> BatchResult:
        """Apply ``messages`` (in order) and commit; retries until it succeeds.

        Raises :class:`ProcessingStopped` only if the worker stops while retrying.
        """
        items = [decode_record(message) for message in messages]
        topic = messages[0].topic if messages else ""
        started = time.perf_counter()
        with self._lock:
            result = self._process_items(items, topic)
        self._metrics.batch_seconds.labels(topic).observe(time.perf_counter() - started)
        count_outcomes(self._metrics, items, result)
        return result

    def _process_items(self, items: list[BatchRecord], topic: str) -> BatchResult:
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

    def _isolate(self, items: list[BatchRecord], topic: str, exc: Exception) -> BatchResult:
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
            merged.add(self._process_items([item], topic))
        return merged

    def _dead_letter_alone(self, item: BatchRecord, topic: str, exc: Exception) -> BatchResult:
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

    def _apply(
        self,
        uow: UnitOfWork,
        items: list[BatchRecord],
        *,
        last_chance: bool,
    ) -> BatchResult:
        result = BatchResult()
        batch = triage(uow.session, self.consumer, self._handlers, items, result)
        run: list[tuple[str, BatchRecord]] = []  # new records of one type with a set handler
        for key, item in batch.to_claim.items():  # in record order
            if batch.runs_handlers(key, item):
                assert item.event is not None
                joins = self._handlers.set_handler(item.event.type) is not None
                if run and (not joins or run[0][1].event_type != item.event_type):
                    self._apply_run(uow, run, batch, result, last_chance=last_chance)
                    run = []
                if joins and park_key(item.message) not in batch.waiting:
                    run.append((key, item))
                    continue
            self._apply_record(uow, key, item, batch, result, last_chance=last_chance)
        if run:
            self._apply_run(uow, run, batch, result, last_chance=last_chance)
        self._refuse_conflicting(uow, batch.conflicting, result)
        return result

    def _apply_run(
        self,
        uow: UnitOfWork,
        run: list[tuple[str, BatchRecord]],
        batch: Triage,
        result: BatchResult,
        *,
        last_chance: bool,
    ) -> None:
        """Apply a run of records with a set handler together; if that fails, one by one."""
        assert run[0][1].event is not None
        handler = self._handlers.set_handler(run[0][1].event.type)
        assert handler is not None
        savepoint = uow.session.begin_nested()
        try:
            outcome = apply_set(uow, self.consumer, handler, run, self._metrics)
            savepoint.commit()
        except Exception as exc:
            savepoint.rollback()
            log.info("set failed; applying its records one by one", error=repr(exc)[:300])
            for key, item in run:
                self._apply_record(uow, key, item, batch, result, last_chance=last_chance)
            return
        items = dict(run)
        for key in outcome.applied:
            if key in batch.reopened:  # a replay, perhaps of a corrected event
                set_outcome(uow.session, self.consumer, key, APPLIED, items[key].digest)
            result.applied.append(key)
        result.duplicates.extend(outcome.same_fact)
        for key, reason, detail in outcome.refused:
            self._dead_letter(uow, items[key], key, reason, detail, result)

    def _apply_record(
        self,
        uow: UnitOfWork,
        key: str,
        item: BatchRecord,
        batch: Triage,
        result: BatchResult,
        *,
        last_chance: bool,
    ) -> None:
        """One claimed record: a duplicate or a conflict if processed before (and not a
        replay), dead-lettered if refused on decoding, parked if its key waits, else
        applied by its handlers."""
        if key not in batch.new and key not in batch.reopened:
            if batch.said[key] != item.digest:
                batch.conflicting.append(item)
            else:
                result.duplicates.append(key)
            return
        if item.event is None:
            assert item.error is not None
            self._dead_letter(uow, item, key, item.error.reason, item.error.detail, result)
            return
        if park_key(item.message) in batch.waiting:
            self._park(uow, item, BEHIND_PARKED, result)
            return
        try:
            outcome = self._handling.apply(uow, item.event, last_chance=last_chance)
        except MustWait as wait:
            self._park(uow, item, wait.reason, result)
            batch.waiting.add(park_key(item.message))
            return
        if outcome is SAME_FACT:
            result.duplicates.append(key)
        elif outcome is None:
            if key in batch.reopened:  # a replay, perhaps of a corrected event
                set_outcome(uow.session, self.consumer, key, APPLIED, item.digest)
            result.applied.append(key)
        else:
            self._dead_letter(uow, item, key, outcome[0], outcome[1], result)

    def _park(self, uow: UnitOfWork, item: BatchRecord, reason: str, result: BatchResult) -> None:
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
                item = decode_record(message_of(row))
                try:
                    outcome = self._retry_one(uow, item, row.parked_at)
                except MustWait:
                    blocked.add(row.park_key)
                    continue
                unpark(uow.session, row)
                if outcome is None or outcome is SAME_FACT:
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
        self, uow: UnitOfWork, item: BatchRecord, parked_at: datetime
    ) -> tuple[str, str] | None:
        if item.event is None:  # it decoded when parked: only a changed rule can refuse it now
            return (item.error.reason, item.error.detail) if item.error else ("undecodable", "")
        waited = utc_now() - parked_at.replace(tzinfo=parked_at.tzinfo or UTC)
        final = waited >= timedelta(seconds=self._reference_grace_s)
        return self._handling.apply(uow, item.event, last_chance=final, final=final)

    def _refuse_conflicting(
        self, uow: UnitOfWork, items: list[BatchRecord], result: BatchResult
    ) -> None:
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

    def _dead_letter(
        self,
        uow: UnitOfWork,
        item: BatchRecord,
        key: str,
        reason: str,
        detail: str,
        result: BatchResult,
    ) -> None:
        event_type, event_id = item.event_type, item.event_id
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
