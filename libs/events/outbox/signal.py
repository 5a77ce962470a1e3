"""Waking the relay as soon as a transaction that staged records commits."""

from __future__ import annotations

import threading

__all__ = ["OutboxSignal"]


class OutboxSignal:
    """A level-triggered wake-up: commit notifies, the relay waits (with a polling timeout)."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def notify(self) -> None:
        self._event.set()

    def wait(self, timeout: float) -> bool:
        """Block until notified or ``timeout`` passes; clears the signal."""
        fired = self._event.wait(timeout)
        self._event.clear()
        return fired
