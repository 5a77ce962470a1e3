"""What the integration and end-to-end tests run on, started once per test run by the pytest
process that runs (or, under xdist, distributes) the tests: a three-node Apache Kafka cluster
and a PostgreSQL server, both on free loopback ports, both stopped when the run ends.

Either is left out when the environment names one to use instead:

- ``TEST_KAFKA_BOOTSTRAP_SERVERS``: an existing Kafka cluster (each test still gets a topic
  namespace of its own there, see ``tests/support/brokers.py``); with ``TEST_KAFKA_SECRET``
  when it authenticates as the tests' own cluster does (``tests/support/kafka_cluster.py``);
- ``TEST_POSTGRES_ADMIN_URL`` or ``TEST_DATABASE_URL``: an existing PostgreSQL server or
  database (``tests/support/databases.py``).

``TEST_BROKER=tansu`` runs every test on an embedded Tansu broker of its own instead of the
cluster (no Java needed; for a quick local run, never what CI does).

The started servers are announced to the tests (and to xdist's workers, which inherit the
environment) through those same variables.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.support.kafka_cluster import KafkaCluster
from tests.support.postgres_server import PostgresServer

__all__ = ["Testbed", "uses_tansu_only"]


def uses_tansu_only() -> bool:
    return os.environ.get("TEST_BROKER", "kafka") == "tansu"


class Testbed:
    """Starts what the environment does not provide, both at once; ``stop`` undoes it."""

    __test__ = False

    def __init__(self) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="mc-testbed-"))
        self.kafka: KafkaCluster | None = None
        self.postgres: PostgresServer | None = None
        self.seconds: dict[str, float] = {}

    def start(self) -> None:
        jobs: dict[str, Callable[[], None]] = {}
        if not os.environ.get("TEST_KAFKA_BOOTSTRAP_SERVERS") and not uses_tansu_only():
            jobs["kafka"] = self._start_kafka
        if not (os.environ.get("TEST_POSTGRES_ADMIN_URL") or os.environ.get("TEST_DATABASE_URL")):
            jobs["postgres"] = self._start_postgres
        failures: dict[str, BaseException] = {}

        def run(name: str, job: Callable[[], None]) -> None:
            began = time.monotonic()
            try:
                job()
            except BaseException as exc:
                failures[name] = exc
            self.seconds[name] = round(time.monotonic() - began, 1)

        threads = [threading.Thread(target=run, args=item) for item in jobs.items()]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if failures:
            self.stop()
            name, error = next(iter(failures.items()))
            raise RuntimeError(f"the test {name} could not start: {error}") from error

    def _start_kafka(self) -> None:
        self.kafka = KafkaCluster(self.directory / "kafka")
        self.kafka.start()
        os.environ["TEST_KAFKA_BOOTSTRAP_SERVERS"] = self.kafka.bootstrap_servers
        os.environ["TEST_KAFKA_SECRET"] = self.kafka.secret

    def _start_postgres(self) -> None:
        self.postgres = PostgresServer()
        self.postgres.start()
        os.environ["TEST_POSTGRES_ADMIN_URL"] = self.postgres.admin_url

    def summary(self) -> dict[str, Any]:
        """What was started, how long it took, and (Kafka) what it cost so far."""
        started: dict[str, Any] = {"start_s": self.seconds}
        if self.kafka is not None:
            started["kafka"] = self.kafka.cost()
        return started

    def stop(self) -> None:
        if self.kafka is not None:
            self.kafka.stop()
            os.environ.pop("TEST_KAFKA_BOOTSTRAP_SERVERS", None)
            os.environ.pop("TEST_KAFKA_SECRET", None)
        if self.postgres is not None:
            self.postgres.stop()
            os.environ.pop("TEST_POSTGRES_ADMIN_URL", None)
        shutil.rmtree(self.directory, ignore_errors=True)
