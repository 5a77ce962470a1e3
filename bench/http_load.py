"""Admin HTTP read throughput: concurrent GETs for a fixed time, counting 200s; and what
those reads cost the same process's event processing (:func:`events_under_reads`)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from typing import Any

import httpx

from bench.cluster import Cluster
from bench.county import Prescriptions
from bench.pipeline import (
    TOPIC,
    _producer,
    _targets,
    _wait_for_effects,
    pharmacy_events,
)
from libs.events import utc_now
from libs.events.topics import physical_topic
from libs.launcher.ports import free_port
from tests.support.services import REPO_ROOT


async def _load(url: str, headers: dict[str, str], seconds: float, concurrency: int) -> float:
    done = 0
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(headers=headers, limits=limits, timeout=10) as client:

        async def worker() -> None:
            nonlocal done
            while time.monotonic() < deadline:
                response = await client.get(url)
                response.raise_for_status()
                done += 1

        started = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return done / (time.monotonic() - started)


def requests_per_s(
    url: str, headers: dict[str, str] | None = None, seconds: float = 10.0, concurrency: int = 16
) -> float:
    asyncio.run(_load(url, headers or {}, 1.0, concurrency))  # warm connections and caches
    return asyncio.run(_load(url, headers or {}, seconds, concurrency))


@dataclass(frozen=True)
class EventsUnderReads:
    """Pharmacy's applied prescription events a second while a backlog drains (with the
    review, the HIS's and quality's releases: two a prescription): in a window with no
    HTTP reads and in an equal one with ``concurrency`` clients reading, back to back."""

    idle_events_per_s: float
    reading_events_per_s: float
    reads_per_s: float
    ratio: float  # reading ÷ idle: 1.0 means the reads cost event processing nothing
    backlog_left: int  # pharmacy's events still unapplied when the second window ended
    valid: bool  # the backlog lasted through both windows (else offer more: capacity_per_s)


def events_under_reads(
    cluster: Cluster,
    prescriptions: Prescriptions,
    path: str,
    headers: dict[str, str],
    *,
    seconds: float = 10.0,
    capacity_per_s: float = 150.0,
    concurrency: int = 16,
) -> dict[str, Any]:
    """Offer a backlog larger than pharmacy can apply in both windows (``capacity_per_s``, the
    end-to-end rate just measured, with a margin), then count pharmacy's applied prescription
    events (``/metrics``: the HIS's, and quality's releases when quality runs, see
    :func:`bench.pipeline.pharmacy_events`) over ``seconds`` without reads and over
    ``seconds`` of ``concurrency`` clients reading ``path`` from the first pharmacy process.
    Waits for every effect of the backlog (stock, ledger, indicator, review) before
    returning, so what is measured next starts idle."""
    # Pharmacy alone applies faster than the end-to-end rate (finance is the last effect):
    # a generous margin, since a backlog that drains early spoils the second window.
    count = int(capacity_per_s * (2 * seconds + 5) * 2.5) + 200
    records = list(prescriptions.batch(count, utc_now()))
    # With the review pharmacy applies two events a prescription: the HIS's and the release.
    per_prescription = 2 if "quality" in cluster.services else 1
    target = pharmacy_events(cluster) + count * per_prescription
    effects = _targets(cluster, count)
    producer = _producer(cluster)
    topic = physical_topic(TOPIC)
    drain_started = time.monotonic()
    for _, key, value in records:
        producer.send(topic, key=key, value=value)
    producer.flush()
    producer.close()
    time.sleep(2.0)  # the consumers are busy with it: batches are full from here on
    url = cluster.services["pharmacy"].url + path
    asyncio.run(_load(url, headers, 1.0, concurrency))  # connections and caches warm
    before = pharmacy_events(cluster)
    started = time.monotonic()
    time.sleep(seconds)
    idle = (pharmacy_events(cluster) - before) / (time.monotonic() - started)
    before = pharmacy_events(cluster)
    started = time.monotonic()
    reads = asyncio.run(_load(url, headers, seconds, concurrency))
    after = pharmacy_events(cluster)
    reading = (after - before) / (time.monotonic() - started)
    _wait_for_effects(cluster, effects, drain_started, timeout_s=max(300.0, count / 5))
    figures = EventsUnderReads(
        idle_events_per_s=round(idle, 1),
        reading_events_per_s=round(reading, 1),
        reads_per_s=round(reads, 1),
        ratio=round(reading / idle, 3) if idle else float("nan"),
        backlog_left=max(0, target - after),
        valid=target - after > 0,
    )
    return asdict(figures)


class BareApp:
    """bench.bare_app under uvicorn on a free port."""

    def __enter__(self) -> str:
        port = free_port()
        self._process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "bench.bare_app:app",
                "--port",
                str(port),
                "--host",
                "127.0.0.1",
                "--log-level",
                "warning",
            ],
            cwd=REPO_ROOT,
        )
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{base}/docs", timeout=1)
                return base
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError("the bare app did not start")

    def __exit__(self, *_: object) -> None:
        self._process.terminate()
        self._process.wait(10)
