"""Registering event handlers: plain functions ``(payload, uow) -> None``, one place per service.

A handler sees the typed payload; the envelope it came in (its id, source, time) is
``uow.event`` for the few that need it (e.g. a snapshot's time orders the copies).

Several handlers may react to one type (e.g. keep the directory copy, then count); they run
in registration order, in the same transaction and savepoint.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from libs.events.payload import Payload
from libs.events.registry import registry
from libs.events.unit_of_work import UnitOfWork

__all__ = ["Handler", "HandlerRegistry"]

P = TypeVar("P", bound=Payload)
U = TypeVar("U", bound=UnitOfWork)
Handler = Callable[[Any, Any], None]


class HandlerRegistry:
    """Which handlers apply each event type this service consumes.

    The topics a service subscribes to follow from the types it handles.
    """

    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = {}

    def on(self, payload: type[P]) -> Callable[[Callable[[P, U], None]], Callable[[P, U], None]]:
        """Decorator: the function handles events whose payload is ``payload``."""
        spec = registry.for_payload(payload)

        def register(fn: Callable[[P, U], None]) -> Callable[[P, U], None]:
            chain = self._handlers.setdefault(spec.type, [])
            if fn in chain:
                raise ValueError(f"{fn.__name__} already handles {spec.type}")
            chain.append(fn)
            return fn

        return register

    def get(self, type_name: str) -> Sequence[Handler]:
        """The handlers of ``type_name`` in order; empty when this service ignores it."""
        return self._handlers.get(type_name, ())

    def types(self) -> Iterator[str]:
        return iter(sorted(self._handlers))

    def topics(self) -> list[str]:
        """The topics carrying the handled types, sorted."""
        return sorted({registry.by_type(t).topic for t in self._handlers})

    def __len__(self) -> int:
        return len(self._handlers)
