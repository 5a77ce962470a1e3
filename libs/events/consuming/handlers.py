"""Registering event handlers: plain functions ``(payload, uow) -> None``, one place per service.

A handler sees the typed payload; the envelope it came in (its id, source, time) is
``uow.event`` for the few that need it (e.g. a snapshot's time orders the copies).

Several handlers may react to one type (e.g. keep the directory copy, then count); they run
in registration order, in the same transaction and savepoint.

A type whose cost is per record (dispensing, posting) may instead have one *set handler*
(``sets.py``): it gets every new record of the type standing together in a batch at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from libs.events.consuming.sets import RecordSet, SetHandler, one_at_a_time
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
        self._set_handlers: dict[str, SetHandler] = {}

    def on(self, payload: type[P]) -> Callable[[Callable[[P, U], None]], Callable[[P, U], None]]:
        """Decorator: the function handles events whose payload is ``payload``."""
        spec = registry.for_payload(payload)

        def register(fn: Callable[[P, U], None]) -> Callable[[P, U], None]:
            if spec.type in self._set_handlers:
                raise ValueError(f"{spec.type} has a set handler; it is the type's only one")
            chain = self._handlers.setdefault(spec.type, [])
            if fn in chain:
                raise ValueError(f"{fn.__name__} already handles {spec.type}")
            chain.append(fn)
            return fn

        return register

    def on_set(
        self, payload: type[P]
    ) -> Callable[[Callable[[RecordSet[P], U], None]], Callable[[RecordSet[P], U], None]]:
        """Decorator: the function applies the records of ``payload``'s type as sets (it is
        then the type's only handler; one record alone is a set of one)."""
        spec = registry.for_payload(payload)

        def register(fn: Callable[[RecordSet[P], U], None]) -> Callable[[RecordSet[P], U], None]:
            if spec.type in self._handlers:
                raise ValueError(f"{spec.type} already has handlers; a set handler is its only one")
            self._set_handlers[spec.type] = fn
            self._handlers[spec.type] = [one_at_a_time(fn)]
            return fn

        return register

    def set_handler(self, type_name: str) -> SetHandler | None:
        """The set handler of ``type_name``, if it has one."""
        return self._set_handlers.get(type_name)

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
