"""Is the broker reachable? A cheap, cached answer for readiness checks."""

from __future__ import annotations

import socket
import threading
import time

__all__ = ["BrokerProbe"]


class BrokerProbe:
    """Opens a TCP connection to a bootstrap server at most every ``ttl_s`` seconds.

    The relay's own health says whether publishing works, but an idle relay has nothing to
    send and so never finds out that the broker went away; this does, without a Kafka client.
    """

    def __init__(self, bootstrap_servers: str, *, ttl_s: float = 5.0, timeout_s: float = 1.0):
        self._servers = [s.strip() for s in bootstrap_servers.split(",") if s.strip()]
        self._ttl_s = ttl_s
        self._timeout_s = timeout_s
        self._lock = threading.Lock()
        self._checked_at = 0.0
        self._error: str | None = "not checked yet"

    def check(self) -> None:
        """Raise unless some bootstrap server accepted a connection recently."""
        with self._lock:
            if time.monotonic() - self._checked_at > self._ttl_s:
                self._error = self._probe()
                self._checked_at = time.monotonic()
            error = self._error
        if error is not None:
            raise RuntimeError(error)

    def _probe(self) -> str | None:
        failures = []
        for server in self._servers:
            host, _, port = server.rpartition(":")
            try:
                with socket.create_connection(
                    (host or server, int(port or 9092)), timeout=self._timeout_s
                ):
                    return None
            except (OSError, ValueError) as exc:
                failures.append(f"{server}: {exc}")
        return "broker unreachable: " + "; ".join(failures)[:250]
