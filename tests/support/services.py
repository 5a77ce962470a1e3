"""Running real service processes in tests, as the launcher would, on free ports."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from libs.launcher.config import PROCESS_ENV
from libs.launcher.ports import free_port
from libs.platform.auth import Role, TokenAuthority, load_signing_keys
from libs.platform.exposition import sample_total
from tests.support.brokers import prefix_of, principal_env

REPO_ROOT = Path(__file__).resolve().parents[2]

#: Short group timeouts, on both brokers: a killed worker's partitions move after 6 s.
TEST_KAFKA_ENV = {
    "KAFKA_SESSION_TIMEOUT_S": "6",
    "KAFKA_HEARTBEAT_INTERVAL_S": "1",
    "KAFKA_REBALANCE_TIMEOUT_S": "6",
    "TOPIC_WAIT_S": "30",
    "CONSUMER_STUCK_EXIT_S": "60",
    "LOG_FORMAT": "json",
}


def fetch_env(bootstrap: str) -> dict[str, str]:
    """On the Apache Kafka cluster (it carries a secret), Kafka's own fetch wait: the broker
    answers a held fetch as soon as a record arrives, so a long wait costs no latency, and
    the suite's short default (for Tansu, which holds a fetch for the whole wait) would have
    every idle worker of every running test poll 20 times a second."""
    return {"KAFKA_FETCH_MAX_WAIT_S": "0.5"} if getattr(bootstrap, "secret", "") else {}


@dataclass
class ServiceHandle:
    name: str
    port: int
    database_url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    authority: TokenAuthority
    extra_env: dict[str, str] = field(default_factory=dict)
    #: ``python -m <wrapper> <name>`` instead of ``python -m services.<name>``
    wrapper: str | None = None
    #: Where it runs and what comes first on its ``sys.path`` (another version's tree).
    cwd: Path | None = None
    pythonpath: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def token(self, role: Role = Role.COUNTY_ADMIN, facility: str | None = None) -> str:
        return self.authority.mint(subject=f"test-{role.value}", role=role, facility_id=facility)

    def client(
        self, role: Role | None = Role.COUNTY_ADMIN, facility: str | None = None
    ) -> httpx.Client:
        headers = {} if role is None else {"Authorization": f"Bearer {self.token(role, facility)}"}
        return httpx.Client(base_url=self.url, headers=headers, timeout=10)

    def get_json(self, path: str, **params: Any) -> Any:
        with self.client() as client:
            response = client.get(path, params=params)
            response.raise_for_status()
            return response.json()

    def metrics(self) -> str:
        return httpx.get(f"{self.url}/metrics", timeout=10).text

    def metric(self, name: str, **labels: str) -> float:
        """The sum of the samples of ``name`` carrying these labels (0 when absent)."""
        return sample_total(self.metrics(), name, **labels)

    def ready(self) -> bool:
        try:
            return httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def send_signal(self, sig: int) -> None:
        """Send ``sig`` if the process still runs; do not wait."""
        if self.process.poll() is None:
            self.process.send_signal(sig)

    def stop(self, sig: int = signal.SIGTERM, timeout_s: float = 20.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def start_service(
    name: str,
    *,
    bootstrap: str,
    database_url: str,
    data_dir: Path,
    env: dict[str, str] | None = None,
    ready_timeout_s: float = 120.0,
    wait_ready: bool = True,
    port: int | None = None,
    wrapper: str | None = None,
    cwd: Path | None = None,
    pythonpath: Path | None = None,
) -> ServiceHandle:
    """Start ``services.<name>`` on a free port (or ``port``: a restart after a crash keeps
    its address, as a supervisor would); its output is appended to ``<data_dir>/<name>.log``.
    ``wrapper`` runs it through a test module instead (``python -m <wrapper> <name>``).
    ``cwd`` (default: this repository) and ``pythonpath`` (put first on the child's
    ``PYTHONPATH``) run another version's code, e.g. an older tree extracted from git.

    A free port is only free when it is picked: another worker's process may bind it first.
    A service that exits because its port was taken is started again on another (up to
    three times); one given ``port`` is not."""
    log_path = data_dir / f"{name}.log"
    for attempt in range(3):
        logged = log_path.stat().st_size if log_path.exists() else 0
        handle = _spawn(
            name, bootstrap=bootstrap, database_url=database_url, data_dir=data_dir, env=env,
            port=port or free_port(), wrapper=wrapper, cwd=cwd, pythonpath=pythonpath,
        )  # fmt: skip
        if not wait_ready:
            return handle
        try:
            wait_until_ready(handle, ready_timeout_s)
            return handle
        except AssertionError:
            this_attempt = log_path.read_bytes()[logged:]
            taken = b"address already in use" in this_attempt
            if port is not None or attempt == 2 or not taken or handle.process.poll() is None:
                raise
    raise AssertionError("unreachable")


def _spawn(
    name: str,
    *,
    bootstrap: str,
    database_url: str,
    data_dir: Path,
    env: dict[str, str] | None,
    port: int,
    wrapper: str | None,
    cwd: Path | None = None,
    pythonpath: Path | None = None,
) -> ServiceHandle:
    data_dir.mkdir(parents=True, exist_ok=True)
    full_env = {
        **PROCESS_ENV,
        **os.environ,
        **TEST_KAFKA_ENV,
        "DATA_DIR": str(data_dir),
        "KAFKA_BOOTSTRAP_SERVERS": str(bootstrap),
        "KAFKA_TOPIC_PREFIX": prefix_of(bootstrap),
        f"{name.upper()}_HTTP_PORT": str(port),
        f"{name.upper()}_DATABASE_URL": database_url,
        **principal_env(bootstrap, name),
        **fetch_env(bootstrap),
        **(env or {}),
    }
    if pythonpath is not None:
        inherited = full_env.get("PYTHONPATH", "")
        full_env["PYTHONPATH"] = os.pathsep.join(p for p in (str(pythonpath), inherited) if p)
    log_path = data_dir / f"{name}.log"
    log = log_path.open("ab")
    command = ["-m", wrapper, name] if wrapper else ["-m", f"services.{name}"]
    process = subprocess.Popen(
        [sys.executable, *command],
        cwd=cwd or REPO_ROOT,
        env=full_env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()
    authority = TokenAuthority(
        load_signing_keys("", data_dir, production=False), "county-medical-community"
    )
    return ServiceHandle(
        name, port, database_url, process, log_path, authority, env or {}, wrapper, cwd, pythonpath
    )


def wait_until_ready(handle: ServiceHandle, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if handle.process.poll() is not None:
            raise AssertionError(
                f"{handle.name} exited with {handle.process.returncode}:\n{handle.log()[-4000:]}"
            )
        if handle.ready():
            return
        time.sleep(0.2)
    try:
        readiness = httpx.get(f"{handle.url}/readyz", timeout=2).text
    except httpx.HTTPError as exc:
        readiness = repr(exc)
    raise AssertionError(
        f"{handle.name} not ready within {timeout_s}s: {readiness}\n{handle.log()[-4000:]}"
    )
