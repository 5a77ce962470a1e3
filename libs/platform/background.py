"""What runs beside a worker's consumers on its event loop: the outbox relay and upkeep.

Both are Faust (mode) services the worker adds to its app, so they start after the app
and stop with it; their work runs in threads, never on the loop.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import structlog
from mode import Service

from libs.events.outbox import OutboxRelay

__all__ = ["Periodic", "RelayService", "UpkeepService"]

log = structlog.get_logger("worker")


@dataclass(frozen=True)
class Periodic:
    """Upkeep run every ``interval_s`` in a worker thread (e.g. a daily expiry scan).

    The first run comes ``first_run_s`` after start (default: one interval).
    """

    name: str
    interval_s: float
    run: Callable[[], None]
    first_run_s: float | None = None


class RelayService(Service):
    """Runs the outbox relay thread for as long as the worker runs."""

    def __init__(self, relay: OutboxRelay, stop: threading.Event, **kwargs: Any) -> None:
        self._relay = relay
        self._stop = stop
        self._thread: threading.Thread | None = None
        super().__init__(**kwargs)

    async def on_start(self) -> None:
        self._thread = threading.Thread(
            target=self._relay.run, args=(self._stop,), name="outbox-relay", daemon=True
        )
        self._thread.start()

    async def on_stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, 15.0)


class UpkeepService(Service):
    """Runs periodic jobs, each in a worker thread, each on its own interval."""

    def __init__(self, jobs: list[Periodic], **kwargs: Any) -> None:
        self._jobs = jobs
        super().__init__(**kwargs)

    async def on_start(self) -> None:
        for job in self._jobs:
            self.add_future(self._every(job))

    async def _every(self, job: Periodic) -> None:
        delay = job.interval_s if job.first_run_s is None else job.first_run_s
        while not self.should_stop:
            await self.sleep(delay)
            delay = job.interval_s
            if self.should_stop:
                return
            try:
                await asyncio.to_thread(job.run)
            except Exception as exc:
                log.error("periodic job failed; will run again", job=job.name, error=repr(exc))
