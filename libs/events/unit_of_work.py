"""The unit of work: one database transaction in which state changes and outgoing events
are written together (the transactional outbox).

Handlers and HTTP endpoints never publish to Kafka themselves; they call
:meth:`UnitOfWork.publish`, which stages the event in the outbox table of the same
transaction. If the transaction rolls back, the event never existed.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from types import TracebackType
from typing import Self

from sqlalchemy.orm import Session

from libs.events.envelope import CloudEvent, new_event
from libs.events.outbox.signal import OutboxSignal
from libs.events.outbox.staging import stage_event
from libs.events.payload import Payload

__all__ = ["COMMIT_HOOKS", "OutboxSignal", "UnitOfWork"]

#: Work the caller's context adds to every unit of work committed within it, in the same
#: transaction: e.g. an HTTP request's idempotency key (libs/platform/http/idempotency.py),
#: recorded with the effects it guards or not at all.
COMMIT_HOOKS: ContextVar[tuple[Callable[[Session], None], ...]] = ContextVar(
    "commit_hooks", default=()
)


class UnitOfWork:
    """``with uow: ...; uow.commit()`` — leaving the block without commit rolls back.

    ``cause`` is the event being handled (set by the consumer for each event), so events
    published while handling it carry its correlation id and name it as their cause.
    Services subclass this to add their repositories.
    """

    def __init__(
        self,
        session_factory: Callable[[], Session],
        *,
        source: str,
        signal: OutboxSignal | None = None,
    ) -> None:
        self._session_factory = session_factory
        self.source = source
        self._signal = signal
        self.cause: CloudEvent[Payload] | None = None
        self.correlation_id: str | None = None
        self._session: Session | None = None
        self._staged = 0

    @property
    def event(self) -> CloudEvent[Payload]:
        """The envelope of the event being handled (handlers receive only its payload)."""
        if self.cause is None:
            raise RuntimeError("no event is being handled in this unit of work")
        return self.cause

    @property
    def session(self) -> Session:
        if self._session is None:
            raise RuntimeError("the unit of work is not open: use it in a `with` block")
        return self._session

    def __enter__(self) -> Self:
        self._session = self._session_factory()
        self._staged = 0
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session, self._session = self._session, None
        if session is None:
            return
        try:
            if session.in_transaction():
                session.rollback()
        finally:
            session.close()

    def publish(self, data: Payload, *, subject: str | None = None) -> CloudEvent[Payload]:
        """Stage an event for publishing when this unit of work commits."""
        event = new_event(
            data,
            source=self.source,
            subject=subject,
            caused_by=self.cause,
            correlation_id=self.correlation_id,
        )
        stage_event(self.session, event)
        self._staged += 1
        return event

    def commit(self) -> None:
        """Commit state, staged events and the context's :data:`COMMIT_HOOKS` together, then
        wake the relay."""
        for hook in COMMIT_HOOKS.get():
            hook(self.session)
        self.session.commit()
        staged, self._staged = self._staged, 0
        if staged and self._signal is not None:
            self._signal.notify()

    def note_staged(self, count: int = 1) -> None:
        """Count records staged directly (dead letters) so commit wakes the relay."""
        self._staged += count

    def rollback(self) -> None:
        self.session.rollback()
        self._staged = 0
