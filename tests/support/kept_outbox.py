"""A fake unit of work's outbox for service-layer unit tests: published events are kept in
memory and count only once committed, as the real outbox stages them in the transaction."""

from __future__ import annotations

from types import TracebackType
from typing import Any, Self

from libs.events.envelope import CloudEvent, new_event
from libs.events.payload import Payload


class KeptOutbox:
    """Mix in before the service's unit of work: ``class Fake(KeptOutbox, XUnitOfWork)``."""

    source: str

    def keep_events(self) -> None:
        self.events: list[CloudEvent[Payload]] = []
        self.committed = False
        self._pending: list[CloudEvent[Payload]] = []

    def __enter__(self) -> Self:
        self._pending = []
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._pending = []  # leaving without commit drops what was published

    def publish(self, data: Payload, *, subject: str | None = None) -> CloudEvent[Payload]:
        event = new_event(data, source=self.source, subject=subject)
        self._pending.append(event)
        return event

    def commit(self) -> None:
        self.events += self._pending
        self._pending = []
        self.committed = True

    def rollback(self) -> None:
        self._pending = []

    def published(self, payload_type: type[Any]) -> list[Any]:
        return [e.data for e in self.events if isinstance(e.data, payload_type)]
