"""Reading a topic from its beginning to its end, for the rebuild.

The end is each partition's high watermark as fetch responses report it: ListOffsets is
not trusted (the embedded broker answers it wrongly).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

from libs.events.credentials import KafkaCredentials
from libs.events.topics import physical_topic

__all__ = ["TopicRecord", "read_topic"]


@dataclass(frozen=True)
class TopicRecord:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]


def read_topic(
    bootstrap_servers: str,
    topic: str,
    *,
    prefix: str = "",
    timeout_s: float = 300.0,
    client_id: str = "reporting-rebuild",
    credentials: KafkaCredentials | None = None,
) -> Iterator[TopicRecord]:
    """Every record of logical ``topic`` now on the broker (in offset order within each
    partition); ``TimeoutError`` if the end is not reached in time. Reads as ``credentials``'
    principal (default: the environment's, i.e. the reporting service's own)."""
    from kafka import KafkaConsumer, TopicPartition

    name = physical_topic(topic, prefix)
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap_servers,
        group_id=None,
        enable_auto_commit=False,
        client_id=client_id,
        **(credentials or KafkaCredentials.from_env()).client_options(),
    )
    try:
        partitions = [
            TopicPartition(name, p) for p in sorted(consumer.partitions_for_topic(name) or ())
        ]
        if not partitions:
            raise LookupError(f"topic {name} does not exist")
        consumer.assign(partitions)
        consumer.seek_to_beginning()
        deadline = time.monotonic() + timeout_s
        while True:
            for records in consumer.poll(timeout_ms=200, max_records=2000).values():
                for r in records:
                    yield TopicRecord(
                        topic,
                        r.partition,
                        r.offset,
                        r.key,
                        r.value,
                        tuple((k, v or b"") for k, v in (r.headers or [])),
                    )
            if all(
                consumer.highwater(tp) is not None
                and consumer.position(tp) >= (consumer.highwater(tp) or 0)
                for tp in partitions
            ):
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"{topic} could not be read to its end in {timeout_s}s")
    finally:
        consumer.close()
