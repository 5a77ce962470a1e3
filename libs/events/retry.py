"""Backoff and the classification of failures into retry-forever, retry-a-few, or never."""

from __future__ import annotations

import random

from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

__all__ = [
    "Backoff",
    "NotYetKnown",
    "PermanentError",
    "is_infrastructure_error",
    "is_permanent_error",
]


class PermanentError(Exception):
    """Raised by a handler for an event that can never be applied as it is.

    The event goes to the dead-letter topic at once with ``reason`` (a short code) and the
    message; nothing it did is kept. Use it for events that break a business rule the schema
    cannot express (e.g. an unknown facility), not for passing conditions.
    """

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class NotYetKnown(PermanentError):
    """An event names something (a facility) this service's copy of master data lacks.

    From a hospital system that is final: the facility is not a member, and the event is
    dead-lettered at once. From another service of the suite it only means the copy lags:
    the producer knew the facility, and its registration may still be on its way on another
    topic (a stock receipt can overtake a facility's registration while the suite starts).
    The batch is then retried for a grace period before the event is dead-lettered.
    """


def is_permanent_error(exc: BaseException) -> bool:
    """Errors that retrying cannot fix."""
    return isinstance(exc, PermanentError | ValidationError)


def is_infrastructure_error(exc: BaseException) -> bool:
    """The database or network is unavailable: wait and retry for as long as it takes."""
    if isinstance(exc, OperationalError | InterfaceError | DisconnectionError | PoolTimeoutError):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, ConnectionError | TimeoutError)


class Backoff:
    """Exponential backoff with full jitter, capped."""

    def __init__(self, initial_s: float = 0.1, maximum_s: float = 30.0) -> None:
        self._initial = initial_s
        self._maximum = maximum_s
        self._attempt = 0

    def next(self) -> float:
        """The delay before the next attempt."""
        ceiling = min(self._maximum, self._initial * (2**self._attempt))
        self._attempt += 1
        return random.uniform(ceiling / 2, ceiling)

    def reset(self) -> None:
        self._attempt = 0
