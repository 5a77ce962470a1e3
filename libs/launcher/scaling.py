"""How many processes of each service the launcher runs, and whether they can share.

Several processes of one service join its one consumer group (the group id is the service's
name) and split its topics' partitions; they share the service's database, and the outbox
relay's lease (a PostgreSQL advisory lock) lets one of them publish at a time. An SQLite
file has no such lease (it is always granted: a file belongs to one process), so several
processes on one would all publish: refused, naming the fix.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from libs.events.topics import load_declarations
from libs.platform.service import definitions

__all__ = [
    "READY_PORTS",
    "ScalingRefused",
    "parse_ready_ports",
    "process_counts",
    "useful_processes",
]

#: The environment variable the launcher hands the listener every service process's admin
#: port in (``pharmacy-1=8101,pharmacy-2=8201,finance=8102,...``).
READY_PORTS = "LAUNCHER_READY_PORTS"


class ScalingRefused(ValueError):
    """The processes asked for cannot run (a bad request, or a database they cannot share)."""


def process_counts(requested: Iterable[str], environ: Mapping[str, str]) -> dict[str, int]:
    """Processes per service: ``<SERVICE>_PROCESSES=N`` from ``environ``, then ``requested``
    (``--processes pharmacy=2``, repeatable or comma-separated), which wins. Services not
    named run as one. Raises :class:`ScalingRefused` for an unknown service, a count below 1,
    or several processes of a service whose database is not PostgreSQL."""
    services = sorted(definitions())
    counts: dict[str, int] = {}
    for name in services:
        value = environ.get(f"{name.upper()}_PROCESSES", "").strip()
        if value:
            counts[name] = _count(f"{name.upper()}_PROCESSES={value}", value)
    for item in (part.strip() for text in requested for part in text.split(",")):
        if not item:
            continue
        name, sep, value = item.partition("=")
        if not sep or name.strip() not in services:
            raise ScalingRefused(
                f"--processes {item!r}: expected SERVICE=N, SERVICE one of {', '.join(services)}"
            )
        counts[name.strip()] = _count(f"--processes {item}", value)
    for name, count in counts.items():
        if count > 1:
            _require_shared_database(name, count, environ)
    return counts


def _count(where: str, value: str) -> int:
    try:
        count = int(value)
    except ValueError:
        count = 0
    if count < 1:
        raise ScalingRefused(f"{where}: the number of processes must be a whole number >= 1")
    return count


def _require_shared_database(name: str, count: int, environ: Mapping[str, str]) -> None:
    variable = f"{name.upper()}_DATABASE_URL"
    url = environ.get(variable, "").strip()
    if url.startswith("postgresql"):
        return
    where = f"{variable}={url}" if url else f"{variable} is not set (an SQLite file in DATA_DIR)"
    raise ScalingRefused(
        f"{name}: {count} processes need one PostgreSQL database to share, and {where}. "
        f"On SQLite every process would publish the outbox (the relay's lease is an "
        f"advisory lock only PostgreSQL has). Set {variable}=postgresql+psycopg://"
        f"USER@HOST/{name} (its migrations run on start), or run one process."
    )


def useful_processes(name: str) -> int:
    """How many processes of ``name`` can have work: the most partitions of a topic it
    consumes (a process beyond that gets no partition and only serves HTTP and stands by);
    0 for a service that consumes nothing (every process serves HTTP only)."""
    consumed = set(definitions()[name].handlers.topics())
    return max((d.partitions for d in load_declarations() if d.name in consumed), default=0)


def parse_ready_ports(text: str) -> dict[str, int]:
    """``pharmacy-1=8101,finance=8102`` → ``{"pharmacy-1": 8101, "finance": 8102}``."""
    ports: dict[str, int] = {}
    for item in text.split(","):
        name, sep, port = item.strip().partition("=")
        if sep:
            ports[name] = int(port)
    return ports
