"""Chaos for the end-to-end tests: services SIGKILLed and restarted while the simulator
plays, and a way to tell that the suite has caught up that survives those restarts.

- :class:`DurableSettler` decides "settled" from what the services have *committed*
  (their outbox and ``processed_events`` tables), not from in-process counters, which a
  restarted service starts again from zero;
- :class:`ChaosMonkey` kills each service at seeded moments and restarts it on the same
  database, data directory and port (``Suite.kill_and_restart``).
"""

from __future__ import annotations

import importlib
import random
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import Engine, create_engine, text

if TYPE_CHECKING:
    from tests.conftest import Suite

#: The suite a simulated county day runs on: with quality, its review centre holds what the
#: rules hold, the simulator's review desk decides it, and pharmacy dispenses only the releases.
SERVICES = ("administration", "staffing", "pharmacy", "finance", "referral", "reporting", "quality")


def handled_types(service: str) -> frozenset[str]:
    """The event types ``service`` applies (its ``handlers.HANDLERS``): only those are
    recorded in its ``processed_events``."""
    module = importlib.import_module(f"services.{service}.handlers")
    return frozenset(module.HANDLERS.types())


@dataclass
class Backlog:
    """What is not yet done, per service; empty when the suite has caught up."""

    unready: list[str] = field(default_factory=list)
    pending: dict[str, int] = field(default_factory=dict)  # outbox rows not yet published
    unapplied: dict[str, int] = field(default_factory=dict)  # published events not claimed
    ingestion_behind: dict[str, int] = field(default_factory=dict)
    fingerprint: tuple[int, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.unready or self.pending or self.unapplied or self.ingestion_behind)

    def __str__(self) -> str:
        parts = {
            "unready": self.unready,
            "pending": self.pending,
            "unapplied": self.unapplied,
            "ingestion behind": self.ingestion_behind,
        }
        return ", ".join(f"{k} {v}" for k, v in parts.items() if v) or "nothing"


class DurableSettler:
    """Settled: every service is ready, every outbox is empty, every published event whose
    type a service handles is in that service's ``processed_events``, every service has
    claimed as many ingestion events as the simulator sent of the types it handles, and
    none of that moved for ``quiet_s``. Read from the databases, so it holds across a
    SIGKILL (the committed state is the truth a restarted process resumes from)."""

    def __init__(
        self,
        suite: Suite,
        services: Iterable[str] = SERVICES,
        *,
        timeout_s: float = 240.0,
        quiet_s: float = 2.0,
    ) -> None:
        self.suite = suite
        self.services = tuple(services)
        self.timeout_s = timeout_s
        self.quiet_s = quiet_s
        self.handles = {name: handled_types(name) for name in self.services}
        self._engines: dict[str, Engine] = {}

    def start(self) -> None:
        """Nothing to remember: every database starts empty."""

    def close(self) -> None:
        for engine in self._engines.values():
            engine.dispose()
        self._engines.clear()

    def _engine(self, service: str) -> Engine:
        url = self.suite.started[service].database_url
        if service not in self._engines:
            self._engines[service] = create_engine(url, pool_pre_ping=True)
        return self._engines[service]

    def backlog(self, sent: dict[str, int]) -> Backlog:
        backlog = Backlog()
        published: dict[str, str] = {}  # event id -> type, from every outbox
        claimed: dict[str, set[str]] = {}
        sizes: list[int] = []
        for service in self.services:
            if not self.suite.started[service].ready():
                backlog.unready.append(service)
            with self._engine(service).connect() as conn:
                pending = conn.execute(
                    text("SELECT count(*) FROM outbox WHERE published_at IS NULL")
                ).scalar_one()
                rows = conn.execute(
                    text(
                        "SELECT event_id, event_type FROM outbox WHERE published_at IS NOT NULL"
                        " AND event_id IS NOT NULL AND topic NOT LIKE '%.dlt'"
                    )
                ).all()
                claimed[service] = set(
                    conn.execute(text("SELECT event_id FROM processed_events")).scalars()
                )
            if pending:
                backlog.pending[service] = pending
            published.update({event_id: event_type for event_id, event_type in rows})
            sizes += [pending, len(rows), len(claimed[service])]
        for service in self.services:
            handled = self.handles[service]
            mine = claimed[service]
            missing = sum(1 for i, t in published.items() if t in handled and i not in mine)
            if missing:
                backlog.unapplied[service] = missing
            # ingestion events are not in any outbox: count the claims that are not
            # internal events nor dead-lettered records' positions
            wanted = sum(
                n for topic, n in sent.items() if any(t.startswith(f"{topic}.") for t in handled)
            )
            got = sum(1 for i in mine if i not in published and not i.startswith("pos:"))
            if got < wanted:
                backlog.ingestion_behind[service] = wanted - got
        backlog.fingerprint = tuple(sizes)
        return backlog

    def settle(
        self, sent: dict[str, int], *, say: Callable[[str], None] = print
    ) -> bool:  # fmt: skip
        deadline = time.monotonic() + self.timeout_s
        last: tuple[int, ...] = ()
        quiet_since = time.monotonic()
        backlog = Backlog()
        next_report = time.monotonic() + 30.0
        while time.monotonic() < deadline:
            if time.monotonic() >= next_report:  # a hang then says who is behind
                waited = self.timeout_s - (deadline - time.monotonic())
                say(f"settle: still behind after {waited:.0f}s: {backlog}")
                next_report += 30.0
            try:
                backlog = self.backlog(sent)
            except Exception as exc:  # a database hiccup: look again
                say(f"settle: {exc!r}")
                time.sleep(0.5)
                continue
            if backlog.fingerprint != last:
                last, quiet_since = backlog.fingerprint, time.monotonic()
            if backlog.empty and time.monotonic() - quiet_since >= self.quiet_s:
                return True
            time.sleep(0.25)
        say(f"the suite did not settle within {self.timeout_s:.0f}s: {backlog}")
        return False


@dataclass
class Kill:
    service: str
    at_s: float  # since the monkey started
    restarted_after_s: float  # from the kill until the new process was ready


class ChaosMonkey:
    """Kills each service ``kills`` times at seeded random moments within ``span_s`` of
    :meth:`start` (SIGKILL, no warning) and restarts it on the same database. One thread
    per service; a service's next kill waits until its last restart is ready."""

    def __init__(
        self, suite: Suite, *, seed: int, kills: int = 3, span_s: float = 60.0,
        services: Iterable[str] = SERVICES,
    ) -> None:  # fmt: skip
        rng = random.Random(f"chaos:{seed}")
        self.suite = suite
        self.schedule = {
            name: sorted(rng.uniform(0.5, span_s) for _ in range(kills)) for name in services
        }
        self.kills: list[Kill] = []
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._began = 0.0

    def start(self) -> None:
        self._began = time.monotonic()
        for name, moments in self.schedule.items():
            thread = threading.Thread(
                target=self._run, args=(name, moments), name=f"chaos-{name}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def _run(self, name: str, moments: list[float]) -> None:
        for moment in moments:
            if self._stop.wait(max(0.0, self._began + moment - time.monotonic())):
                return
            at = time.monotonic()
            try:
                self.suite.kill_and_restart(name)
            except Exception as exc:  # noted and asserted on by the test
                with self._lock:
                    self.errors.append(f"{name}: {exc}")
                return
            with self._lock:
                self.kills.append(Kill(name, at - self._began, time.monotonic() - at))

    def stop(self) -> None:
        """No further kill; wait for restarts under way to be ready."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=180)

    def counts(self) -> dict[str, int]:
        with self._lock:
            return {n: sum(1 for k in self.kills if k.service == n) for n in self.schedule}
