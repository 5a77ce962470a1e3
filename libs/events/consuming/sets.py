"""Set handlers: the records of one type in a batch, applied together.

A set handler ``(records: RecordSet[P], uow) -> None`` sees every new record of its type
that stands together in a consumed batch (up to the whole batch), so it can load what they
touch once, decide in the pure domain, and write with bulk statements; the batch processor
runs it under one savepoint. It walks the records with :meth:`RecordSet.each`, which makes
each record the unit of work's cause while its loop body runs (so what it publishes names
that record as its cause), and refuses one with :meth:`RecordSet.refuse`: the record is
dead-lettered with that reason and the handler must have written nothing for it — validate
in the domain first, write after.

If the set handler raises, its savepoint is rolled back and the same records are applied
one by one, each under its own savepoint, by the same function given a set of one: a
refusal then raises, so the per-record path (dead-letter, park, retry) decides as for any
handler. One bad record is so dead-lettered alone and never costs the rest of the batch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, Generic, TypeVar

import structlog

from libs.events.envelope import CloudEvent
from libs.events.payload import Payload
from libs.events.retry import PermanentError
from libs.events.unit_of_work import UnitOfWork

__all__ = ["RecordSet", "SetHandler", "one_at_a_time"]

# Covariant: a set of ``.v2`` records is a set of records of the ``.v1`` they extend, so
# one set handler typed for ``.v1`` registers for both versions (a set is only read).
P = TypeVar("P", bound=Payload, covariant=True)

SetHandler = Callable[["RecordSet[Any]", Any], None]


class RecordSet(Generic[P]):
    """New records of one event type from one batch, in record order."""

    def __init__(self, uow: UnitOfWork, events: Sequence[CloudEvent[P]]) -> None:
        self._uow = uow
        self._events = list(events)
        self._current: int | None = None
        #: Refused records by position in the set, with why.
        self.refused: dict[int, PermanentError] = {}

    def __len__(self) -> int:
        return len(self._events)

    @property
    def payloads(self) -> list[P]:
        """Every record's payload, in order (for loading what the set touches at once)."""
        return [event.data for event in self._events]

    @property
    def events(self) -> list[CloudEvent[P]]:
        """The envelopes, for the few handlers that need a record's time or id."""
        return list(self._events)

    def each(self) -> Iterator[P]:
        """The payloads in order, skipping refused ones; while the loop body runs, the record
        is the unit of work's cause and the log's context."""
        for index, event in enumerate(self._events):
            if index in self.refused:
                continue
            self._current, self._uow.cause = index, event
            structlog.contextvars.bind_contextvars(
                event_id=event.id, event_type=event.type, correlation_id=event.correlation_id
            )
            try:
                yield event.data
            finally:
                self._current, self._uow.cause = None, None
                structlog.contextvars.unbind_contextvars("event_id", "event_type", "correlation_id")

    def refuse(self, error: PermanentError) -> None:
        """Refuse the record :meth:`each` is on: it is dead-lettered with ``error``'s reason.
        Nothing may have been written or published for it."""
        if self._current is None:
            raise RuntimeError("refuse() names the record each() is on")
        self.refused[self._current] = error


def one_at_a_time(handler: SetHandler) -> Callable[[Any, UnitOfWork], None]:
    """``handler`` as a per-record handler: a set of the event being handled; a refusal
    raises, so the per-record path dead-letters it."""

    def handle(_data: Any, uow: UnitOfWork) -> None:
        records: RecordSet[Any] = RecordSet(uow, [uow.event])
        cause = uow.cause
        try:
            handler(records, uow)
        finally:
            uow.cause = cause
        if records.refused:
            raise records.refused[0]

    handle.__name__ = getattr(handler, "__name__", "set_handler")
    handle.__wrapped__ = handler  # type: ignore[attr-defined]
    return handle
