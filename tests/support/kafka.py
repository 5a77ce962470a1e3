"""Talking to the broker directly in tests: raw records in, every record out."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from tests.support.brokers import credentials_of, topic_on


@dataclass(frozen=True)
class Record:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: dict[str, bytes]


#: The key of a record that has no subject to be keyed by (garbage, a broken envelope).
JUNK_KEY = b"test"


def key_of(value: bytes | None) -> bytes:
    """The key a producer gives ``value``: its subject (consumers refuse any other), or
    :data:`JUNK_KEY` when it has none."""
    try:
        body = json.loads(value or b"")
    except ValueError:
        return JUNK_KEY
    subject = body.get("subject") if isinstance(body, dict) else None
    return subject.encode("utf-8") if isinstance(subject, str) else JUNK_KEY


def produce(
    bootstrap: str,
    topic: str,
    values: Sequence[bytes | None],
    key: bytes | None = None,
    headers: Sequence[tuple[str, bytes]] = (),
) -> None:
    """Send ``values`` to logical ``topic``, each keyed by its subject unless ``key`` says."""
    producer = KafkaProducer(
        bootstrap_servers=bootstrap, acks="all", **credentials_of(bootstrap).client_options()
    )
    try:
        for value in values:
            producer.send(
                topic_on(bootstrap, topic),
                key=key if key is not None else key_of(value),
                value=value,
                headers=list(headers),
            )
        producer.flush(timeout=30)
    finally:
        producer.close(timeout=5)


def read_all(bootstrap: str, topic: str, *, timeout_s: float = 20.0) -> list[Record]:
    """Every record on logical ``topic`` now (to the high watermark from fetch responses)."""
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        **credentials_of(bootstrap).client_options(),
    )
    try:
        name = topic_on(bootstrap, topic)
        partitions = [
            TopicPartition(name, p) for p in sorted(consumer.partitions_for_topic(name) or ())
        ]
        consumer.assign(partitions)
        consumer.seek_to_beginning()
        records: list[Record] = []
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=200).values():
                records += [
                    Record(
                        topic,
                        r.partition,
                        r.offset,
                        r.key,
                        r.value,
                        {k: v for k, v in (r.headers or [])},
                    )
                    for r in batch
                ]
            if all(
                consumer.highwater(tp) is not None
                and consumer.position(tp) >= (consumer.highwater(tp) or 0)
                for tp in partitions
            ):
                return sorted(records, key=lambda r: (r.partition, r.offset))
        raise TimeoutError(f"could not read {topic} to its end")
    finally:
        consumer.close()


def wait_for(predicate, *, timeout_s: float = 90.0, interval_s: float = 0.2, what: str = ""):
    """Poll ``predicate`` until it returns something truthy; fail the test on timeout."""
    deadline = time.monotonic() + timeout_s
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval_s)
    raise AssertionError(f"timed out after {timeout_s}s waiting for {what or predicate}: {last!r}")
