"""A real Prometheus (Debian's ``prometheus`` package) for tests: started on a free port with
a generated configuration and a temporary storage directory, queried over its HTTP API.

Without the binaries the tests skip, except in CI (``CI`` set), where that is a failure;
``make test`` installs the package when it runs as root.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from libs.launcher.ports import free_port

__all__ = ["Prometheus", "require", "running_prometheus"]


def require(binary: str) -> str:
    """The path of ``prometheus`` or ``promtool``; skip (fail in CI) without it."""
    path = shutil.which(binary)
    if path:
        return path
    message = (
        f"{binary} is not installed (Debian's prometheus package; `make test` installs it "
        "when run as root)"
    )
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


class Prometheus:
    def __init__(self, url: str) -> None:
        self.url = url

    def query(self, expr: str) -> list[dict[str, Any]]:
        """An instant query's result vector."""
        response = httpx.get(f"{self.url}/api/v1/query", params={"query": expr}, timeout=10)
        response.raise_for_status()
        body = response.json()
        assert body["status"] == "success", body
        result: list[dict[str, Any]] = body["data"]["result"]
        return result

    def targets(self) -> list[dict[str, Any]]:
        response = httpx.get(f"{self.url}/api/v1/targets", timeout=10)
        response.raise_for_status()
        active: list[dict[str, Any]] = response.json()["data"]["activeTargets"]
        return active


@contextmanager
def running_prometheus(
    targets: Mapping[str, str], directory: Path, *, interval: str = "1s"
) -> Iterator[Prometheus]:
    """Prometheus scraping each job's ``host:port`` every ``interval``."""
    binary = require("prometheus")
    config = {
        "global": {"scrape_interval": interval, "evaluation_interval": interval},
        "scrape_configs": [
            {"job_name": job, "static_configs": [{"targets": [target]}]}
            for job, target in targets.items()
        ],
    }
    directory.mkdir(parents=True, exist_ok=True)
    config_path = directory / "prometheus.yml"
    config_path.write_text(yaml.safe_dump(config), encoding="utf-8")
    port = free_port()
    log = (directory / "prometheus.log").open("wb")
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={config_path}",
            f"--storage.tsdb.path={directory / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise AssertionError(
                    "prometheus exited:\n" + (directory / "prometheus.log").read_text()[-3000:]
                )
            try:
                if httpx.get(f"{url}/-/ready", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("prometheus not ready within 30 s")
            time.sleep(0.1)
        yield Prometheus(url)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
