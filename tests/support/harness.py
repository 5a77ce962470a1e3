"""Applying events to a service's real handlers on a real database, without a broker.

The fastest honest test of a handler: the service's migrations, its handler registry and
its unit of work, through the same :class:`BatchProcessor` the worker uses (so idempotency,
savepoints and dead letters behave exactly as in production)::

    harness = HandlerHarness("pharmacy", make_database("pharmacy"))
    result = harness.apply(prescription_event, visit_event)
    published = harness.published("pharmacy.prescription.dispensed.v1")
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select

from libs.events import CloudEvent, Payload, decode, encode, new_event
from libs.events.consuming import BatchProcessor, BatchResult, ConsumedMessage, HandlerRegistry
from libs.events.provenance import producer_source
from libs.events.tables import OutboxRecord
from libs.events.unit_of_work import UnitOfWork
from libs.platform.database import Database, create_database
from libs.platform.migrations import MigrationPlan, upgrade
from libs.platform.service import UnitsOfWork
from tests.support.delivery import metrics
from tests.support.kafka import key_of


class HandlerHarness:
    def __init__(
        self,
        service: str,
        database_url: str,
        *,
        units_of_work: UnitsOfWork = UnitOfWork,
        handlers: HandlerRegistry | None = None,
        max_attempts: int = 2,
        reference_grace_s: float = 0.2,
    ) -> None:
        self.service = service
        schema = importlib.import_module(f"services.{service}.adapters.schema")
        plan: MigrationPlan = schema.MIGRATIONS
        upgrade(plan, database_url)
        self.database: Database = create_database(database_url)
        self.units_of_work = units_of_work
        self.handlers = handlers or importlib.import_module(f"services.{service}.handlers").HANDLERS
        self.metrics = metrics(service)
        self.processor = BatchProcessor(
            consumer=service,
            handlers=self.handlers,
            uow_factory=self.uow,
            metrics=self.metrics,
            max_attempts=max_attempts,
            reference_grace_s=reference_grace_s,
        )
        self._offset = 0
        self.reference_grace_s = reference_grace_s

    def uow(self) -> UnitOfWork:
        return self.units_of_work(self.database.sessions, source=f"/services/{self.service}")

    def apply(
        self, *events: CloudEvent[Payload] | bytes, headers: Sequence[tuple[str, bytes]] = ()
    ) -> BatchResult:
        """Apply ``events`` as one consumed batch (raw bytes are sent as they are)."""
        messages = []
        for item in events:
            value = item if isinstance(item, bytes) else encode(item)
            topic = decode(value).topic if not isinstance(item, bytes) else _topic_of(value)
            messages.append(
                ConsumedMessage(
                    topic=topic,
                    partition=0,
                    offset=self._offset,
                    key=key_of(value),
                    value=value,
                    headers=tuple(headers),
                )
            )
            self._offset += 1
        result = self.processor.process(messages)
        if result.parked:  # as the worker's periodic retry does once the grace has passed
            time.sleep(self.reference_grace_s)
            retried = self.processor.retry_parked()
            result.applied += retried.applied
            result.dead_lettered += retried.dead_lettered
        return result

    def published(
        self, type_name: str | None = None, *, as_of: datetime | None = None
    ) -> list[CloudEvent[Any]]:
        """Events this service staged in its outbox (in order), optionally of one type;
        ``as_of`` is the time they are read at (a test's clock ahead of the real one)."""
        with self.database.sessions() as session:
            rows = session.scalars(
                select(OutboxRecord)
                .where(~OutboxRecord.topic.like("%.dlt"))
                .order_by(OutboxRecord.id)
            )
            events = [decode(row.value, now=as_of) for row in rows]
        return [e for e in events if type_name is None or e.type == type_name]

    def dead_letters(self) -> list[OutboxRecord]:
        with self.database.sessions() as session:
            return list(
                session.scalars(
                    select(OutboxRecord)
                    .where(OutboxRecord.topic.like("%.dlt"))
                    .order_by(OutboxRecord.id)
                )
            )

    def close(self) -> None:
        self.database.dispose()


def _topic_of(value: bytes) -> str:
    """The topic of a raw record's declared type, or ingestion.visit for garbage."""
    try:
        return decode(value).topic
    except Exception:
        return "ingestion.visit"


def event_of(payload: Payload, *, source: str | None = None, **kwargs: Any) -> CloudEvent[Any]:
    """Wrap a payload in an envelope, as its producer would (another ``source`` forges it)."""
    return new_event(payload, source=source or producer_source(payload), **kwargs)
