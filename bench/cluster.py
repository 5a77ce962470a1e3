"""The parts a benchmark runs on: a broker (the embedded Tansu or a three-node Apache Kafka
cluster), one PostgreSQL database per service, and the service processes, exactly as the
tests and the launcher start them: one per service, and more of a service on demand
(:meth:`Cluster.add_process`), in its consumer group and on its database."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from libs.launcher.broker import EmbeddedBroker
from libs.launcher.ports import free_port
from tests.support.brokers import BrokerAddress, provision
from tests.support.databases import postgres_database, require_postgres
from tests.support.kafka_cluster import KafkaCluster
from tests.support.postgres_server import PostgresServer
from tests.support.services import ServiceHandle, start_service

#: The secret the benchmark's services and its producer pseudonymise with.
PSEUDONYM_SECRET = "bench-pseudonym-secret-0123456789"  # noqa: S105 (a benchmark's, not a secret)
BROKERS = ("tansu", "kafka")


@dataclass
class Cluster:
    bootstrap: str
    data_dir: Path
    kafka: KafkaCluster | None = None
    #: The embedded Tansu broker (``--broker tansu``), for its CPU figure.
    embedded: EmbeddedBroker | None = None
    services: dict[str, ServiceHandle] = field(default_factory=dict)
    #: Further processes of a service (in its consumer group, on its database), in order.
    more: dict[str, list[ServiceHandle]] = field(default_factory=dict)
    stack: ExitStack | None = field(default=None, repr=False)

    def processes(self, name: str) -> list[ServiceHandle]:
        """Every process of service ``name``, the first one first."""
        return [self.services[name], *self.more.get(name, [])]

    def add_process(self, name: str, ready_timeout_s: float = 300) -> ServiceHandle:
        """Start one more process of ``name``, as the first was started (same database,
        environment and data directory, its own port); ready once its group has it."""
        first = self.services[name]
        handle = start_service(
            name,
            bootstrap=self.bootstrap,
            database_url=first.database_url,
            data_dir=self.data_dir,
            env=first.extra_env,
            ready_timeout_s=ready_timeout_s,
        )
        if self.stack is not None:
            self.stack.callback(handle.stop)
        self.more.setdefault(name, []).append(handle)
        return handle

    def pids(self) -> dict[str, int]:
        """Each service process's id, named as :meth:`peak_memory_mib` names them."""
        pids = {name: handle.process.pid for name, handle in self.services.items()}
        for name, handles in self.more.items():
            for n, handle in enumerate(handles, start=2):
                pids[f"{name}-{n}"] = handle.process.pid
        return pids

    def cpu_seconds(self) -> dict[str, float]:
        """CPU seconds used so far by each service process and, on Tansu, the broker
        (``tansu``; the Kafka nodes' are in :meth:`broker_cost`)."""
        used = {name: cpu_seconds(pid) for name, pid in self.pids().items()}
        if self.embedded is not None and self.embedded.process is not None:
            used["tansu"] = cpu_seconds(self.embedded.process.pid)
        return used

    def peak_memory_mib(self) -> dict[str, float]:
        """Each service process's peak resident set (VmHWM), in MiB: ``pharmacy``, and
        ``pharmacy-2``… for further processes."""
        return {name: _vm_hwm_mib(pid) for name, pid in self.pids().items()}

    def broker_cost(self) -> dict[str, Any]:
        """What the Kafka nodes cost so far (resident MiB, CPU seconds); empty on Tansu."""
        return self.kafka.cost() if self.kafka is not None else {}


def _vm_hwm_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    return int(match.group(1)) / 1024 if match else float("nan")


def cpu_seconds(pid: int) -> float:
    """The user and system CPU seconds process ``pid`` has used (its threads included)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_ticks() -> tuple[int, int]:
    """(busy, all) clock ticks of every core since boot: a window's busy share is the ratio
    of their differences."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(values) - values[3] - values[4], sum(values)


@contextmanager
def postgres() -> Iterator[None]:
    """A durable throw-away PostgreSQL server for the run, unless ``TEST_POSTGRES_ADMIN_URL``
    (or ``TEST_DATABASE_URL``) names one: a benchmark measures commits as a real server
    makes them, so this one keeps PostgreSQL's defaults (fsync on)."""
    if os.environ.get("TEST_POSTGRES_ADMIN_URL") or os.environ.get("TEST_DATABASE_URL"):
        yield
        return
    with PostgresServer(durable=True) as server:
        os.environ["TEST_POSTGRES_ADMIN_URL"] = server.admin_url
        try:
            yield
        finally:
            os.environ.pop("TEST_POSTGRES_ADMIN_URL", None)


@contextmanager
def cluster(
    data_dir: Path, names: tuple[str, ...], env: dict[str, str], *, broker: str = "tansu"
) -> Iterator[Cluster]:
    """Start the broker, create every topic, and start ``names`` (in order) on PostgreSQL."""
    require_postgres()
    data_dir.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        kafka: KafkaCluster | None = None
        embedded: EmbeddedBroker | None = None
        if broker == "kafka":
            kafka = stack.enter_context(KafkaCluster(data_dir / "kafka", quick_jit=False))
            # Authenticated as production is: each service its own principal, under ACLs.
            bootstrap = BrokerAddress(kafka.bootstrap_servers, "", kafka.secret)
        else:
            log = stack.enter_context((data_dir / "broker.log").open("wb"))
            embedded = stack.enter_context(EmbeddedBroker(free_port(), log=log))
            bootstrap = BrokerAddress(embedded.bootstrap_servers)
        provision(bootstrap)
        running = Cluster(bootstrap, data_dir, kafka, embedded, stack=stack)
        for name in names:
            url = stack.enter_context(postgres_database(f"bench_{name}"))
            handle = start_service(
                name,
                bootstrap=bootstrap,
                database_url=url,
                data_dir=data_dir,
                env={"PSEUDONYM_SECRET": PSEUDONYM_SECRET, "LOG_LEVEL": "WARNING", **env},
                ready_timeout_s=300,
            )
            stack.callback(handle.stop)
            running.services[name] = handle
        yield running
