"""One event through its handlers, under a savepoint of the batch's transaction: what a
handler's failure means (dead-letter it, park it, or retry the batch), and the fact an
event states claimed with its effects (``EventSpec.identity``: a visit resent under a new
id is the same visit)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import structlog
from sqlalchemy.orm import Session

from libs.events.consuming.handlers import HandlerRegistry
from libs.events.consuming.processed import fact_digest
from libs.events.envelope import CloudEvent
from libs.events.metrics import DeliveryMetrics
from libs.events.payload import Payload
from libs.events.provenance import EDGE_PRODUCER
from libs.events.registry import registry
from libs.events.retry import (
    NotYetKnown,
    PermanentError,
    is_infrastructure_error,
    is_permanent_error,
)
from libs.events.unit_of_work import UnitOfWork

__all__ = ["SAME_FACT", "EventHandling", "MustWait"]

log = structlog.get_logger("consumer")

#: (session, consumer, fact, event id, digest) -> the earlier (event id, digest), or None.
ClaimFact = Callable[[Session, str, str, str, str], tuple[str, str] | None]

#: What :meth:`EventHandling.apply` returns for a fact applied before under another id.
SAME_FACT = ("same_fact", "")


class MustWait(Exception):
    """The event names master data not known yet, and its producer knew it: park it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _vouched_for(event: CloudEvent[Payload]) -> bool:
    """The event comes from a service of the suite, which knew what the event names (what a
    hospital system names unknown is unknown, not late)."""
    return event.type in registry and registry.by_type(event.type).producer != EDGE_PRODUCER


@dataclass
class EventHandling:
    """Runs one consumer's handlers for one event at a time."""

    consumer: str
    handlers: HandlerRegistry
    metrics: DeliveryMetrics
    #: :func:`~libs.events.consuming.processed.claim_fact`, as the batch module names it.
    claim_fact: ClaimFact

    def apply(
        self,
        uow: UnitOfWork,
        event: CloudEvent[Payload],
        *,
        last_chance: bool,
        final: bool = False,
    ) -> tuple[str, str] | None:
        """Run the handler under a savepoint; ``(reason, detail)`` if it must be dead-lettered.

        Raises :class:`MustWait` if it names master data not known yet and its producer
        knew it (unless ``final``: the wait is over)."""
        handlers = self.handlers.get(event.type)
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
                raise MustWait(exc.reason) from exc
            if isinstance(exc, PermanentError):
                return exc.reason, exc.detail
            if is_permanent_error(exc):
                return "handler_rejected", repr(exc)[:1000]
            if last_chance and not is_infrastructure_error(exc):
                log.error("handler keeps failing; dead-lettering the event", error=repr(exc)[:500])
                return "exhausted_retries", repr(exc)[:1000]
            raise
        finally:
            self.metrics.event_handle_seconds.labels(event.type).observe(
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
        digest = fact_digest(event)
        earlier = self.claim_fact(uow.session, self.consumer, fact, event.id, digest)
        if earlier is None:
            return None
        if earlier[1] == digest:
            return SAME_FACT
        detail = f"{fact} was applied from event {earlier[0]} with other content; "
        detail += "a correction is a new fact, not a resend"
        return "conflicting_fact", detail
