"""Reading whole topics once, from their first record up to their end as it is now.

For the few readers that need a topic's history rather than a consumer group's next records:
the dead-letter tools, and a service taking over master data another service published
before it (the organisation, from staffing to administration).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from libs.events.credentials import KafkaCredentials
from libs.events.topics import physical_topic

__all__ = ["read_to_the_end"]


def read_to_the_end(
    bootstrap_servers: str,
    topics: Iterable[str],
    *,
    prefix: str = "",
    timeout_s: float = 30.0,
    credentials: KafkaCredentials | None = None,
    client_id: str = "history-reader",
) -> list[Any]:
    """Every record now on ``topics`` (logical names, under namespace ``prefix``), as
    kafka-python ``ConsumerRecord``\\ s in topic, partition and offset order; a topic that
    does not exist has none.

    Reads each partition up to the high watermark its fetch responses report (ListOffsets is
    not trusted: some Kafka-compatible brokers get it wrong). Raises ``TimeoutError`` when the
    end is not reached within ``timeout_s``.
    """
    from kafka import KafkaConsumer, TopicPartition

    wanted = [physical_topic(name, prefix) for name in topics]
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap_servers,
        group_id=None,
        enable_auto_commit=False,
        client_id=client_id,
        **(credentials or KafkaCredentials.from_env()).client_options(),
    )
    try:
        available = consumer.topics()
        partitions = [
            TopicPartition(topic, p)
            for topic in wanted
            if topic in available
            for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        if not partitions:
            return []
        return _drain(consumer, partitions, timeout_s)
    finally:
        consumer.close()


def _drain(consumer: Any, partitions: list[Any], timeout_s: float) -> list[Any]:
    consumer.assign(partitions)
    consumer.seek_to_beginning()
    records: list[Any] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for batch in consumer.poll(timeout_ms=200).values():
            records.extend(batch)
        if all(
            consumer.highwater(tp) is not None
            and consumer.position(tp) >= (consumer.highwater(tp) or 0)
            for tp in partitions
        ):
            return sorted(records, key=lambda r: (r.topic, r.partition, r.offset))
    raise TimeoutError(f"{', '.join(sorted({tp.topic for tp in partitions}))}: not read to the end")
