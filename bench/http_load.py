"""Admin HTTP read throughput: concurrent GETs for a fixed time, counting 200s."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time

import httpx

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
