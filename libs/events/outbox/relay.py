"""The outbox relay: publishes committed outbox records to Kafka, in order, forever.

One relay runs in each service process, in a thread of its own. It reads pending records in
``id`` order, sends them with kafka-python's idempotent producer (``acks=all``), waits until
the broker has them, and only then marks them published. A crash between publishing and
marking means the records are published again on restart: consumers skip them by event id.
So delivery is at-least-once, and effects are exactly-once.

Failures (broker down, timeouts) are retried with backoff, never dropped. With several
processes of one service on PostgreSQL, an advisory lock elects the one that publishes, so
records leave in commit order; the others stand by (healthy, publishing nothing) and the
first to ask after the leader's connection closes (it died, or stopped) takes over.
"""

from __future__ import annotations

import threading
import time
import zlib
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import structlog
from sqlalchemy import Connection, Engine, delete, func, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from libs.events.credentials import KafkaCredentials
from libs.events.envelope import utc_now
from libs.events.metrics import DeliveryMetrics
from libs.events.outbox.signal import OutboxSignal
from libs.events.outbox.staging import decode_headers
from libs.events.retry import Backoff
from libs.events.tables import OutboxRecord
from libs.events.topics import physical_topic

__all__ = ["OutboxRelay", "RelayLease"]

log = structlog.get_logger("outbox.relay")

ProducerFactory = Callable[[], Any]


class RelayLease:
    """Who may publish: on PostgreSQL one process per service, elected by an advisory lock.

    The lock is held on a dedicated connection, so it is released when the process dies (or
    its connection is cut). Advisory locks are per database, and one database may hold
    several outboxes in schemas of their own (a shared test database): the lock names the
    schema unless it is ``public``, where it keeps the key it always had (so a rolling
    upgrade never has two leaders). SQLite databases belong to one process (the launcher
    refuses several processes of a service on SQLite), so the lease is always granted there.
    """

    def __init__(self, engine: Engine, name: str) -> None:
        self._engine = engine
        self._name = name
        self._key: int | None = None
        self._conn: Connection | None = None

    @property
    def applies(self) -> bool:
        return self._engine.dialect.name == "postgresql"

    @property
    def held(self) -> bool:
        """Whether this holder took the lease (as of its last :meth:`acquire`)."""
        return self._conn is not None or not self.applies

    @staticmethod
    def key_for(name: str, schema: str = "public") -> int:
        """The advisory lock's key for service ``name``'s outbox in ``schema``."""
        scope = f"outbox-relay:{name}" if schema == "public" else f"outbox-relay:{name}:{schema}"
        return zlib.crc32(scope.encode()) & 0x7FFFFFFF

    def acquire(self) -> bool:
        """True when this process holds (or now took) the lease."""
        if not self.applies:
            return True
        if self._conn is not None:
            try:
                self._conn.execute(text("SELECT 1"))
                self._conn.commit()  # never left idle in a transaction between rounds
                return True
            except Exception:
                log.warning("relay lease connection lost; standing for election again")
                self.release()
        conn = self._engine.connect()
        try:
            if self._key is None:
                schema = conn.execute(text("SELECT current_schema()")).scalar()
                self._key = self.key_for(self._name, str(schema or "public"))
            held = bool(
                conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self._key}).scalar()
            )
            conn.commit()
        except Exception:
            conn.close()
            raise
        if held:
            self._conn = conn
            log.info("relay lease taken: this process publishes the outbox", relay=self._name)
        else:
            conn.close()
        return held

    def release(self) -> None:
        """Let go of the lease: unlock, and drop the lock connection rather than hand it back
        to the pool (a pooled connection would keep a lock nobody knows it holds)."""
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            # At once: a dropped connection's lock is freed only once the server notices.
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self._key})
            conn.commit()
        except Exception:  # the connection is already gone, and the lock with it
            log.debug("relay lease connection already closed")
        try:
            conn.invalidate()
            conn.close()
        except Exception:
            log.debug("relay lease connection already closed")


def kafka_producer_factory(
    bootstrap_servers: str,
    client_id: str,
    *,
    credentials: KafkaCredentials | None = None,
    **overrides: Any,
) -> ProducerFactory:
    """A factory of kafka-python producers configured for ordered, idempotent delivery, as
    ``credentials``' principal (default: the environment's)."""
    identity = (credentials or KafkaCredentials.from_env()).client_options()

    def create() -> Any:
        from kafka import KafkaProducer

        options: dict[str, Any] = {
            "bootstrap_servers": bootstrap_servers,
            "client_id": client_id,
            "acks": "all",
            "enable_idempotence": True,
            "max_in_flight_requests_per_connection": 5,
            "linger_ms": 5,
            "max_block_ms": 10_000,
            # Fail a round (and retry with backoff) rather than block for 30 s at start-up
            # while the broker is unreachable.
            "bootstrap_timeout_ms": 10_000,
            "request_timeout_ms": 15_000,
            "delivery_timeout_ms": 30_000,
            **identity,
        }
        options.update(overrides)
        return KafkaProducer(**options)

    return create


class OutboxRelay:
    """Publishes pending outbox records until ``stop`` is set. Run :meth:`run` in a thread."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        engine: Engine,
        producer_factory: ProducerFactory,
        *,
        name: str,
        metrics: DeliveryMetrics,
        signal: OutboxSignal | None = None,
        batch_size: int = 500,
        idle_poll_s: float = 0.5,
        flush_timeout_s: float = 30.0,
        retention: timedelta = timedelta(hours=24),
        topic_prefix: str = "",
        standby_poll_s: float = 5.0,
    ) -> None:
        self._sessions = session_factory
        self._standby_poll_s = standby_poll_s
        self._prefix = topic_prefix
        self._producer_factory = producer_factory
        self._producer: Any = None
        self._metrics = metrics
        self._signal = signal or OutboxSignal()
        self._batch_size = batch_size
        self._idle_poll_s = idle_poll_s
        self._flush_timeout_s = flush_timeout_s
        self._retention = retention
        self._lease = RelayLease(engine, name)
        self._last_gauges = 0.0
        self._last_prune = 0.0
        self.healthy = False
        """True after a round that reached the broker (or had nothing to send), or that
        found another process of the service holding the lease (standing by)."""

    @property
    def lease(self) -> RelayLease:
        """Whether this process publishes (``lease.held``) or stands by."""
        return self._lease

    def run(self, stop: threading.Event) -> None:
        """Publish until ``stop`` is set; every failure is logged, counted and retried."""
        backoff = Backoff(initial_s=0.2, maximum_s=30.0)
        try:
            while not stop.is_set():
                try:
                    if not self._lease.acquire():
                        # Another process of this service publishes: standing by is no
                        # failure (readiness asks ``healthy``), and takes over when it dies.
                        self._metrics.relay_leader.set(0)
                        self.healthy = True
                        backoff.reset()
                        self._refresh_gauges(force=False)
                        stop.wait(self._standby_poll_s)
                        continue
                    self._metrics.relay_leader.set(1)
                    sent = self.publish_pending()
                    self.healthy = True
                    backoff.reset()
                    self._refresh_gauges(force=sent > 0)
                    self._maybe_prune()
                    if sent < self._batch_size:
                        self._signal.wait(self._idle_poll_s)
                except Exception as exc:
                    self.healthy = False
                    self._metrics.relay_errors.inc()
                    delay = backoff.next()
                    log.warning(
                        "outbox relay round failed; retrying",
                        error=repr(exc)[:500],
                        retry_in_s=round(delay, 2),
                    )
                    self._discard_producer()
                    # The backlog gauges matter most exactly now, while nothing gets out.
                    self._refresh_gauges_safely()
                    stop.wait(delay)
        finally:
            self._discard_producer()
            self._lease.release()

    def _refresh_gauges_safely(self) -> None:
        try:
            self._refresh_gauges(force=True)
        except Exception as exc:  # the database may be what is failing
            log.debug("could not refresh outbox gauges", error=repr(exc)[:200])

    def publish_pending(self) -> int:
        """Publish one batch of pending records in order; returns how many were published.

        Raises if any record could not be published; the records before it stay marked.
        """
        with self._sessions() as session:
            rows = session.execute(
                select(
                    OutboxRecord.id,
                    OutboxRecord.topic,
                    OutboxRecord.key,
                    OutboxRecord.value,
                    OutboxRecord.headers,
                )
                .where(OutboxRecord.published_at.is_(None))
                .order_by(OutboxRecord.id)
                .limit(self._batch_size)
            ).all()
        if not rows:
            return 0
        producer = self._ensure_producer()
        futures = [
            (
                row.id,
                row.topic,
                producer.send(
                    physical_topic(row.topic, self._prefix),
                    key=row.key,
                    value=row.value,
                    headers=decode_headers(row.headers or []),
                ),
            )
            for row in rows
        ]
        producer.flush(timeout=self._flush_timeout_s)
        published: list[int] = []
        failure: BaseException | None = None
        for row_id, topic, future in futures:
            if not future.is_done or future.failed():
                failure = future.exception if future.is_done else TimeoutError("not acknowledged")
                break
            published.append(row_id)
            self._metrics.events_published.labels(topic).inc()
        self._mark_published(published)
        if failure is not None:
            raise RuntimeError(f"publish failed after {len(published)} records: {failure!r}")
        return len(published)

    def _mark_published(self, ids: list[int]) -> None:
        if not ids:
            return
        with self._sessions() as session:
            session.execute(
                update(OutboxRecord).where(OutboxRecord.id.in_(ids)).values(published_at=utc_now())
            )
            session.commit()

    def _ensure_producer(self) -> Any:
        if self._producer is None:
            self._producer = self._producer_factory()
        return self._producer

    def _discard_producer(self) -> None:
        # A fresh producer after a failure: the broker may have restarted and forgotten the
        # idempotent producer id, which an old producer would keep failing on.
        producer, self._producer = self._producer, None
        if producer is not None:
            try:
                producer.close(timeout=5)
            except Exception as exc:
                log.debug("closing producer failed", error=repr(exc))

    def _refresh_gauges(self, *, force: bool) -> None:
        now = time.monotonic()
        if not force and now - self._last_gauges < 1.0:
            return
        self._last_gauges = now
        with self._sessions() as session:
            count, oldest = session.execute(
                select(func.count(), func.min(OutboxRecord.created_at)).where(
                    OutboxRecord.published_at.is_(None)
                )
            ).one()
        self._metrics.outbox_pending.set(count)
        if oldest is None:
            self._metrics.outbox_oldest_age.set(0)
        else:
            if oldest.tzinfo is None:  # SQLite returns naive datetimes; we stored UTC
                from datetime import UTC

                oldest = oldest.replace(tzinfo=UTC)
            self._metrics.outbox_oldest_age.set(max(0.0, (utc_now() - oldest).total_seconds()))

    def _maybe_prune(self) -> None:
        now = time.monotonic()
        if now - self._last_prune < 600:
            return
        self._last_prune = now
        cutoff = utc_now() - self._retention
        with self._sessions() as session:
            session.execute(delete(OutboxRecord).where(OutboxRecord.published_at < cutoff))
            session.commit()
