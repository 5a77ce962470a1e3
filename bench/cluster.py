"""The parts a benchmark runs on: one embedded broker, one PostgreSQL database per service,
and the service processes, exactly as the tests and the launcher start them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from libs.events.topics import create_topics
from libs.launcher.broker import EmbeddedBroker
from libs.launcher.ports import free_port
from tests.support.databases import postgres_database, require_postgres
from tests.support.services import ServiceHandle, start_service

#: The secret the benchmark's services and its producer pseudonymise with.
PSEUDONYM_SECRET = "bench-pseudonym-secret-0123456789"  # noqa: S105 (a benchmark's, not a secret)


@dataclass
class Cluster:
    bootstrap: str
    data_dir: Path
    services: dict[str, ServiceHandle] = field(default_factory=dict)

    def peak_memory_mib(self) -> dict[str, float]:
        """Each service process's peak resident set (VmHWM), in MiB."""
        return {name: _vm_hwm_mib(handle.process.pid) for name, handle in self.services.items()}


def _vm_hwm_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    return int(match.group(1)) / 1024 if match else float("nan")


@contextmanager
def cluster(data_dir: Path, names: tuple[str, ...], env: dict[str, str]) -> Iterator[Cluster]:
    """Start the broker, create every topic, and start ``names`` (in order) on PostgreSQL."""
    require_postgres()
    data_dir.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        log = stack.enter_context((data_dir / "broker.log").open("wb"))
        broker = stack.enter_context(EmbeddedBroker(free_port(), log=log))
        create_topics(broker.bootstrap_servers)
        running = Cluster(broker.bootstrap_servers, data_dir)
        for name in names:
            url = stack.enter_context(postgres_database(f"bench_{name}"))
            handle = start_service(
                name,
                bootstrap=broker.bootstrap_servers,
                database_url=url,
                data_dir=data_dir,
                env={"PSEUDONYM_SECRET": PSEUDONYM_SECRET, "LOG_LEVEL": "WARNING", **env},
                ready_timeout_s=300,
            )
            stack.callback(handle.stop)
            running.services[name] = handle
        yield running
