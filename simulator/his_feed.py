"""A hospital information system's feed onto the ingestion topics (kafka-python): sends
keyed by facility, confirmed at checkpoints and replayed after a failed delivery."""

from __future__ import annotations

import contextlib
import time
from datetime import datetime
from typing import TYPE_CHECKING, Any

from libs.events import Payload, encode, new_event
from libs.events.codec import CONTENT_TYPE_HEADER
from libs.events.topics import physical_topic

if TYPE_CHECKING:
    from simulator.drivers import Endpoints

__all__ = ["EventSink"]


def _abandon(producer: Any) -> None:
    """Close a producer that may still hold sends it cannot deliver. kafka-python's close()
    flushes first and raises when that times out, before it reaches its own force-close; so
    force it, and mark it closed so that its finaliser does not try again."""
    from kafka.errors import KafkaError

    try:
        producer.close(timeout=1)
    except KafkaError:
        sender = getattr(producer, "_sender", None)
        if sender is not None:
            sender.force_close()
        producer._closed = True


class EventSink:
    """A hospital information system's feed: events onto the ingestion topics, keyed by
    facility, with the business time as the envelope time.

    It delivers as the interface engines in front of hospital systems do: it confirms its
    feed every ``CHECKPOINT_RECORDS`` messages (a checkpoint), and when a delivery fails it
    replays everything since the last checkpoint — the same bytes, so the same event ids —
    with a new connection, until all of it is acknowledged. An outage delays the feed but
    loses nothing of it; what the broker had already taken arrives twice, and the suite's
    consumers must notice."""

    CHECKPOINT_RECORDS = 20
    #: A replay waits this long after a failed round, so an outage is not hammered.
    RESEND_PAUSE_S = 1.0

    def __init__(self, endpoints: Endpoints) -> None:
        self._prefix = endpoints.topic_prefix
        self._endpoints = endpoints
        self._producer = self._new_producer()
        self.sent: dict[str, int] = {}
        self.resent = 0
        #: Everything sent since the last checkpoint: (its future or None, topic, key, value).
        self._unconfirmed: list[tuple[Any, str, bytes, bytes]] = []

    def _new_producer(self) -> Any:
        from kafka import KafkaProducer

        delivery_ms = int(self._endpoints.delivery_timeout_s * 1000)
        return KafkaProducer(
            bootstrap_servers=self._endpoints.bootstrap,
            acks="all",
            enable_idempotence=True,
            linger_ms=5,
            client_id="county-simulator",
            **self._endpoints.kafka_credentials.client_options(),
            delivery_timeout_ms=delivery_ms,
            request_timeout_ms=min(30_000, delivery_ms // 2),
            max_block_ms=min(60_000, delivery_ms),
        )

    def send(self, payload: Payload, *, at: datetime, facility_id: str) -> None:
        event = new_event(payload, source=f"/his/{facility_id}", time=at)
        self._send(physical_topic(event.topic, self._prefix), event.key.encode(), encode(event))
        self.sent[event.topic] = self.sent.get(event.topic, 0) + 1
        if len(self._unconfirmed) >= self.CHECKPOINT_RECORDS:
            self.flush()

    def _send(self, topic: str, key: bytes, value: bytes) -> None:
        from kafka.errors import KafkaError

        try:
            future = self._producer.send(topic, key=key, value=value, headers=[CONTENT_TYPE_HEADER])
        except KafkaError:  # e.g. no metadata within max_block_ms: the cluster is away
            future = None
        self._unconfirmed.append((future, topic, key, value))

    def flush(self) -> None:
        """A checkpoint: until everything sent since the last one is acknowledged, replaying
        all of it whenever some of it was not.

        Before replaying, the producer is replaced (as the outbox relay does): an idempotent
        producer whose send expired may refuse to go on with that partition."""
        from kafka.errors import KafkaTimeoutError

        patience = max(10.0, 2 * self._endpoints.delivery_timeout_s)
        while True:
            with contextlib.suppress(KafkaTimeoutError):
                self._producer.flush(timeout=patience)
            journal, self._unconfirmed = self._unconfirmed, []
            if all(f is not None and f.is_done and not f.failed() for f, *_ in journal):
                return
            self._replace_producer()
            time.sleep(self.RESEND_PAUSE_S)
            for _, topic, key, value in journal:
                self.resent += 1
                self._send(topic, key, value)

    def _replace_producer(self) -> None:
        old, self._producer = self._producer, self._new_producer()
        _abandon(old)

    def close(self) -> None:
        from kafka.errors import KafkaError

        self.flush()
        with contextlib.suppress(KafkaError):  # everything was acknowledged: nothing is lost
            self._producer.close(timeout=10)
