"""Topic declarations (``infra/kafka/topics.yaml``) and the command that applies them.

    python -m libs.events.topics create [--bootstrap-servers HOST:PORT]
    python -m libs.events.topics list

Creation is idempotent: existing topics are left alone (their partition count is raised when
the declaration asks for more; Kafka cannot lower it).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from libs.events.credentials import KafkaCredentials

__all__ = [
    "DEAD_LETTER_SUFFIX",
    "TopicDeclaration",
    "admin_client",
    "create_topics",
    "dead_letter_topic",
    "delete_topics",
    "load_declarations",
    "logical_topic",
    "physical_topic",
]

DEAD_LETTER_SUFFIX = ".dlt"
DEFAULT_FILE = Path(__file__).resolve().parents[2] / "infra" / "kafka" / "topics.yaml"


def dead_letter_topic(topic: str) -> str:
    """The dead-letter twin of ``topic``."""
    return topic + DEAD_LETTER_SUFFIX


# Inside the code every topic has its logical name (``pharmacy.stock``). On the broker it may
# carry a namespace prefix (``KAFKA_TOPIC_PREFIX``, e.g. ``qs.``) so that several counties
# share one cluster, or each test run gets topics of its own; the prefix is applied only
# where the code meets Kafka: creating topics, publishing, subscribing.


def physical_topic(topic: str, prefix: str = "") -> str:
    """The broker's name for logical ``topic`` under namespace ``prefix``."""
    return prefix + topic


def logical_topic(name: str, prefix: str = "") -> str:
    """The logical name of the broker's topic ``name`` (the inverse of physical_topic)."""
    if prefix and not name.startswith(prefix):
        raise ValueError(f"topic {name!r} is outside namespace {prefix!r}")
    return name[len(prefix) :]


@dataclass(frozen=True)
class TopicDeclaration:
    name: str
    partitions: int
    replication_factor: int
    config: dict[str, str] = field(default_factory=dict)
    dead_letter: bool = False


def load_declarations(path: Path = DEFAULT_FILE) -> list[TopicDeclaration]:
    """Every declared topic, each followed by its dead-letter twin."""
    doc: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    defaults = doc.get("defaults", {})
    dlt_defaults = doc.get("dead_letter", {})
    declarations: list[TopicDeclaration] = []
    for name, spec in (doc.get("topics") or {}).items():
        spec = spec or {}
        config = {**defaults.get("config", {}), **spec.get("config", {})}
        replication = int(spec.get("replication_factor", defaults.get("replication_factor", 1)))
        declarations.append(
            TopicDeclaration(
                name=name,
                partitions=int(spec.get("partitions", defaults.get("partitions", 1))),
                replication_factor=replication,
                config={k: str(v) for k, v in config.items()},
            )
        )
        dlt_config = {**defaults.get("config", {}), **dlt_defaults.get("config", {})}
        declarations.append(
            TopicDeclaration(
                name=dead_letter_topic(name),
                partitions=int(dlt_defaults.get("partitions", 1)),
                replication_factor=replication,
                config={k: str(v) for k, v in dlt_config.items()},
                dead_letter=True,
            )
        )
    return declarations


def _fit_to_cluster(decl: TopicDeclaration, brokers: int) -> tuple[int, dict[str, str]]:
    """Replication and config capped to what a cluster of ``brokers`` brokers can hold."""
    replication = max(1, min(decl.replication_factor, brokers))
    config = dict(decl.config)
    if "min.insync.replicas" in config:
        config["min.insync.replicas"] = str(
            max(1, min(int(config["min.insync.replicas"]), replication - 1 or 1))
        )
    return replication, config


def create_topics(
    bootstrap_servers: str,
    declarations: Iterable[TopicDeclaration] | None = None,
    *,
    prefix: str = "",
    timeout_s: float = 60.0,
    credentials: KafkaCredentials | None = None,
) -> dict[str, str]:
    """Create missing topics and grow partition counts; returns ``{topic: what happened}``
    (physical names, under namespace ``prefix``).

    Waits up to ``timeout_s`` for the cluster to answer (it may still be starting).
    """
    from kafka import KafkaAdminClient
    from kafka.admin import NewPartitions

    decls = [
        TopicDeclaration(
            physical_topic(d.name, prefix),
            d.partitions,
            d.replication_factor,
            d.config,
            d.dead_letter,
        )
        for d in (declarations if declarations is not None else load_declarations())
    ]
    admin = _connect_admin(KafkaAdminClient, bootstrap_servers, timeout_s, credentials)
    try:
        brokers = len(admin.describe_cluster().get("brokers", [])) or 1
        existing = _partition_counts(admin)
        outcome: dict[str, str] = {}
        missing: dict[str, dict[str, Any]] = {}
        for decl in decls:
            if decl.name in existing:
                have = existing[decl.name]
                if have < decl.partitions:
                    admin.create_partitions({decl.name: NewPartitions(total_count=decl.partitions)})
                    outcome[decl.name] = f"partitions {have} -> {decl.partitions}"
                else:
                    outcome[decl.name] = "exists"
                continue
            replication, config = _fit_to_cluster(decl, brokers)
            missing[decl.name] = {
                "num_partitions": decl.partitions,
                "replication_factor": replication,
                "configs": config,
            }
        if missing:
            outcome.update(_create_missing(admin, missing))
        return outcome
    finally:
        admin.close()


def _create_missing(admin: Any, missing: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Create ``missing`` in one request; a topic another creator made meanwhile is fine."""
    from kafka.errors import TopicAlreadyExistsError, for_code

    response = admin.create_topics(missing, raise_errors=False)
    outcome: dict[str, str] = {}
    for topic in response["topics"]:
        error = for_code(topic["error_code"])
        if topic["error_code"] == 0:
            outcome[topic["name"]] = "created"
        elif error is TopicAlreadyExistsError:
            outcome[topic["name"]] = "exists"  # another creator won the race
        else:
            message = topic.get("error_message") or error.__name__
            raise RuntimeError(f"could not create topic {topic['name']}: {message}")
    return outcome


def _connect_admin(
    factory: Any, bootstrap_servers: str, timeout_s: float, credentials: KafkaCredentials | None
) -> Any:
    from kafka.errors import KafkaError

    options = (credentials or KafkaCredentials.from_env()).client_options()
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return factory(
                bootstrap_servers=bootstrap_servers,
                client_id="topic-admin",
                request_timeout_ms=10_000,
                **options,
            )
        except KafkaError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def admin_client(
    bootstrap_servers: str,
    credentials: KafkaCredentials | None,
    client_id: str,
    *,
    request_timeout_ms: int,
) -> Any:
    """A kafka-python admin client as the given principal (default: the environment's);
    the topic and access commands open theirs here, so they authenticate alike."""
    from kafka import KafkaAdminClient

    return KafkaAdminClient(
        bootstrap_servers=bootstrap_servers,
        client_id=client_id,
        request_timeout_ms=request_timeout_ms,
        **(credentials or KafkaCredentials.from_env()).client_options(),
    )


def _partition_counts(admin: Any) -> dict[str, int]:
    names = admin.list_topics()
    if not names:
        return {}
    return {t["name"]: len(t["partitions"]) for t in admin.describe_topics(names)}


def missing_topics(
    bootstrap_servers: str,
    names: Iterable[str],
    *,
    prefix: str = "",
    credentials: KafkaCredentials | None = None,
) -> set[str]:
    """Which of the logical ``names`` the cluster does not have under namespace ``prefix``
    (or does not show this client: a principal sees only the topics it may use)."""
    admin = admin_client(bootstrap_servers, credentials, "topic-check", request_timeout_ms=5_000)
    try:
        present = set(admin.list_topics())
        return {name for name in names if physical_topic(name, prefix) not in present}
    finally:
        admin.close()


def delete_topics(
    bootstrap_servers: str,
    *,
    prefix: str,
    timeout_s: float = 30.0,
    credentials: KafkaCredentials | None = None,
) -> list[str]:
    """Delete every declared topic under namespace ``prefix`` (never the un-prefixed ones).

    A topic created a moment ago may not have reached the controller's view yet (it answers
    UNKNOWN_TOPIC_OR_PARTITION): those are asked again until ``timeout_s``."""
    from kafka.errors import UnknownTopicOrPartitionError, for_code

    if not prefix:
        raise ValueError("refusing to delete the topics of the default namespace")
    admin = admin_client(bootstrap_servers, credentials, "topic-admin", request_timeout_ms=10_000)
    try:
        present = set(admin.list_topics())
        doomed = [
            physical_topic(d.name, prefix)
            for d in load_declarations()
            if physical_topic(d.name, prefix) in present
        ]
        deadline = time.monotonic() + timeout_s
        remaining = list(doomed)
        while remaining:
            response = admin.delete_topics(remaining, raise_errors=False)
            results = response["topics"]
            remaining = []
            for result in results:
                error = for_code(result["error_code"])
                if result["error_code"] == 0:
                    continue
                if error is not UnknownTopicOrPartitionError or time.monotonic() > deadline:
                    raise RuntimeError(f"could not delete topic {result['name']}: {error.__name__}")
                remaining.append(result["name"])
            if remaining:
                time.sleep(0.5)
        return doomed
    finally:
        admin.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m libs.events.topics",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("command", choices=["create", "list"])
    parser.add_argument(
        "--bootstrap-servers", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    )
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE)
    parser.add_argument(
        "--prefix",
        default=os.environ.get("KAFKA_TOPIC_PREFIX", ""),
        help="topic namespace (default: KAFKA_TOPIC_PREFIX)",
    )
    args = parser.parse_args(argv)
    decls = load_declarations(args.file)
    if args.command == "list":
        for d in decls:
            name = physical_topic(d.name, args.prefix)
            print(f"{name}\tpartitions={d.partitions}\treplication={d.replication_factor}")
        return 0
    outcome = create_topics(args.bootstrap_servers, decls, prefix=args.prefix)
    for name in sorted(outcome):
        print(f"{name}: {outcome[name]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
