"""The broker's own pace: the same prescription records produced and consumed with bare
clients, kafka-python (what the outbox relay uses) and aiokafka (what Faust uses), on a
topic shaped like the ingestion topic. No database, no handler: an upper bound for the suite."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Sequence

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from kafka import KafkaConsumer, KafkaProducer
from kafka.admin import KafkaAdminClient

from tests.support.brokers import credentials_of

PARTITIONS = 6  # as ingestion.prescription


def _new_topic(bootstrap: str, client: str) -> str:
    """A topic replicated as the ingestion topic is on this broker (3, or 1 on Tansu)."""
    name = f"bench.raw.{client}.{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(
        bootstrap_servers=bootstrap, **credentials_of(bootstrap).client_options()
    )
    try:
        brokers = len(admin.describe_cluster()["brokers"])
        replication = min(3, brokers)
        config = {"min.insync.replicas": str(max(1, replication - 1))}
        admin.create_topics(
            {name: {"num_partitions": PARTITIONS, "replication_factor": replication,
                    "configs": config}}
        )  # fmt: skip
    finally:
        admin.close()
    return name


def kafka_python(bootstrap: str, records: Sequence[tuple[bytes, bytes]]) -> float:
    """Messages a second from the first send to the last one consumed."""
    topic = _new_topic(bootstrap, "kafka-python")
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"bench-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        max_poll_records=2000,
        **credentials_of(bootstrap).client_options(),
    )
    while not consumer.assignment():
        consumer.poll(timeout_ms=200)
    producer = KafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        linger_ms=5,
        batch_size=256 * 1024,
        **credentials_of(bootstrap).client_options(),
    )
    started = time.monotonic()
    for key, value in records:
        producer.send(topic, key=key, value=value)
    producer.flush()
    seen = 0
    while seen < len(records):
        for batch in consumer.poll(timeout_ms=500).values():
            seen += len(batch)
    elapsed = time.monotonic() - started
    producer.close()
    consumer.close()
    return len(records) / elapsed


async def _aiokafka(bootstrap: str, records: Sequence[tuple[bytes, bytes]]) -> float:
    topic = _new_topic(bootstrap, "aiokafka")
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"bench-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        max_poll_records=2000,
        **credentials_of(bootstrap).client_options(),
    )
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        linger_ms=5,
        max_batch_size=256 * 1024,
        **credentials_of(bootstrap).client_options(),
    )
    await consumer.start()
    await producer.start()
    try:
        while not consumer.assignment():
            await consumer.getmany(timeout_ms=200)
        started = time.monotonic()
        consumed = asyncio.ensure_future(_consume(consumer, len(records)))
        for key, value in records:
            await producer.send(topic, key=key, value=value)
        await producer.flush()
        await consumed
        return len(records) / (time.monotonic() - started)
    finally:
        await producer.stop()
        await consumer.stop()


async def _consume(consumer: AIOKafkaConsumer, expected: int) -> None:
    seen = 0
    while seen < expected:
        for batch in (await consumer.getmany(timeout_ms=500, max_records=2000)).values():
            seen += len(batch)


def aiokafka(bootstrap: str, records: Sequence[tuple[bytes, bytes]]) -> float:
    """Messages a second from the first send to the last one consumed."""
    return asyncio.run(_aiokafka(bootstrap, records))
