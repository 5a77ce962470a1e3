"""One service process: a Faust worker that also serves the admin app and runs the relay.

The composition root of each service builds a :class:`ServiceProcess` and calls
:meth:`ServiceProcess.run`, which:

1. configures logging and migrates the database (every branch to its head);
2. waits until the broker has the suite's topics (they are created by the topic command,
   never by workers);
3. runs the service's start-up hooks (e.g. publishing master data), one process at a time;
4. starts, on one event loop: the Faust app with one batch agent per subscribed topic, the
   admin app (uvicorn), the outbox relay (a thread), and periodic upkeep.

Consumed batches are applied in a worker thread and acknowledged only after their
transaction committed; a batch that cannot be applied when the worker stops is never
acknowledged, so it is redelivered. Nothing raised by a handler escapes an agent.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import faust
import mode
import structlog
from fastapi import APIRouter, FastAPI
from faust.contrib.asgi import AsgiService
from prometheus_client import CollectorRegistry

from libs.events.access import grant_for
from libs.events.consuming import BatchProcessor, HandlerRegistry, ProcessingStopped
from libs.events.consuming.processed import prune as prune_processed
from libs.events.metrics import DeliveryMetrics
from libs.events.outbox import OutboxRelay, OutboxSignal, kafka_producer_factory
from libs.events.topics import load_declarations, missing_topics, physical_topic
from libs.events.unit_of_work import UnitOfWork
from libs.platform.auth import TokenAuthority, load_signing_keys
from libs.platform.background import Periodic, RelayService, UpkeepService
from libs.platform.batching import consumer_batches, tune_fetch_wait
from libs.platform.broker_probe import BrokerProbe
from libs.platform.client_fixes import apply_client_fixes
from libs.platform.consumer_lag import update_consumer_lag
from libs.platform.database import Database, create_database
from libs.platform.dead_letters import desk_for
from libs.platform.faust_records import consumed_record
from libs.platform.http import dead_letters
from libs.platform.http.app import HttpLimits, create_admin_app
from libs.platform.logging import configure_logging
from libs.platform.migrations import MigrationPlan, upgrade
from libs.platform.service import UnitsOfWork
from libs.platform.settings import PlatformSettings

__all__ = ["STUCK_EXIT_CODE", "Periodic", "ServiceProcess"]

#: The exit status of a worker that left because its consumers never became ready (EX_TEMPFAIL).
STUCK_EXIT_CODE = 75

log = structlog.get_logger("worker")

PROCESSED_RETENTION = timedelta(days=30)
#: How long a consumer remembers the business facts it applied (a visit, a prescription): a
#: hospital system may resend one long after a redelivery could happen, e.g. when its
#: interface engine replays a month. Beyond this only a service's own records catch it.
FACT_RETENTION = timedelta(days=400)


@dataclass
class ServiceProcess:
    name: str
    title: str
    description: str
    platform: PlatformSettings
    http_port: int
    database_url: str
    migrations: MigrationPlan
    handlers: HandlerRegistry
    routers: Iterable[APIRouter] = ()
    units_of_work: UnitsOfWork = UnitOfWork
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)
    on_start: list[Callable[[ServiceProcess], None]] = field(default_factory=list)
    periodic: list[Periodic] = field(default_factory=list)
    own_rate_limits: tuple[str, ...] = ()  # paths whose callers the service limits itself
    publishes_for: tuple[str, ...] = ()  # producers it speaks for (ServiceDefinition)
    # What a service adds to its app beyond routers (the console: its HTML error pages).
    app_setup: list[Callable[[FastAPI], None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.metrics = DeliveryMetrics.create(self.name, self.registry)
        self.database: Database = create_database(self.database_url)
        self.signal = OutboxSignal()
        self._consumers_unready_since: float | None = None
        self.stop_event = threading.Event()
        self.token_authority = TokenAuthority(
            load_signing_keys(
                self.platform.auth_keys,
                self.platform.data_dir,
                production=self.platform.environment == "production",
            ),
            self.platform.auth_issuer,
        )
        self.relay = OutboxRelay(
            self.database.sessions,
            self.database.engine,
            kafka_producer_factory(
                self.platform.kafka_bootstrap_servers,
                f"{self.name}-relay",
                credentials=self.platform.kafka_credentials(),
                request_timeout_ms=int(self.platform.kafka_request_timeout_s * 1000),
                delivery_timeout_ms=int(self.platform.kafka_delivery_timeout_s * 1000),
            ),
            name=self.name,
            metrics=self.metrics,
            signal=self.signal,
            topic_prefix=self.platform.kafka_topic_prefix,
        )
        self._app: Any = None
        self._processed_offsets: dict[tuple[str, int], int] = {}
        self._processors: list[BatchProcessor] = []

    # --- composition ---------------------------------------------------------------------

    @property
    def source(self) -> str:
        return f"/services/{self.name}"

    def unit_of_work(self) -> UnitOfWork:
        """A new unit of work on this service's database and outbox."""
        return self.units_of_work(self.database.sessions, source=self.source, signal=self.signal)

    def admin_app(self) -> FastAPI:
        consumes = bool(len(self.handlers))  # then it has dead letters to show
        app = create_admin_app(
            service=self.name,
            title=self.title,
            description=self.description,
            routers=[*self.routers, *([dead_letters.router] if consumes else [])],
            checks=self._readiness_checks(),
            registry=self.registry,
            token_authority=self.token_authority,
            sessions=self.database.sessions,
            limits=HttpLimits(
                max_body_bytes=self.platform.http_max_body_bytes,
                rate_per_minute=self.platform.rate_limit_per_minute,
                rate_burst=self.platform.rate_limit_burst,
                exempt_prefixes=self.own_rate_limits,
            ),
        )
        app.state.uow_factory = self.unit_of_work
        app.state.process = self
        app.state.dead_letters = desk_for(self) if consumes else None
        for setup in self.app_setup:
            setup(app)
        return app

    def _readiness_checks(self) -> dict[str, Callable[[], None]]:
        def database() -> None:
            self.database.ping()

        probe = BrokerProbe(self.platform.kafka_bootstrap_servers)

        def broker() -> None:
            probe.check()
            if not self.relay.healthy:
                raise RuntimeError("the outbox relay is failing to publish")

        return {"database": database, "broker": broker, "consumers": self._check_consumers}

    def _check_consumers(self) -> None:
        if not len(self.handlers):
            return  # this service consumes nothing
        app = self._app
        if app is None:
            raise RuntimeError("the stream processor has not started")
        if getattr(app, "rebalancing", False):
            raise RuntimeError("consumer group rebalancing")
        if not app.tables.recovery.completed.is_set():
            raise RuntimeError("partitions not assigned or tables still recovering")

    def _watch_consumers(self) -> None:
        """Exit when the consumers have not been ready for ``CONSUMER_STUCK_EXIT_S``.

        The last resort of a process whose consumers cannot get back into their group (the
        one known way, Faust's tables bound to a dead loop, is closed at build time). Nothing
        is lost by leaving (nothing unacknowledged is applied twice, the outbox is in the
        database): exit and let the supervisor start a fresh process.
        """
        try:
            self._check_consumers()
        except Exception as exc:
            now = time.monotonic()
            if self._consumers_unready_since is None:
                self._consumers_unready_since = now
            elif now - self._consumers_unready_since > self.platform.consumer_stuck_exit_s:
                log.critical(
                    "consumers not ready for too long; exiting to be restarted",
                    reason=str(exc),
                    seconds=round(now - self._consumers_unready_since),
                )
                os._exit(STUCK_EXIT_CODE)
        else:
            self._consumers_unready_since = None

    # --- running ---------------------------------------------------------------------------

    def run(self) -> None:
        """Run the process until SIGINT/SIGTERM; does not return normally."""
        logging_config = configure_logging(
            self.name, self.platform.log_level, self.platform.log_format
        )
        log.info(
            "starting",
            http_port=self.http_port,
            database=self.database.dialect,
            bootstrap_servers=self.platform.kafka_bootstrap_servers,
        )
        if self.platform.migrate_on_start:
            upgrade(self.migrations, self.database_url)
        self._wait_for_topics()
        # Several processes of the service may start together: their seeding takes turns.
        with self.database.one_at_a_time(f"on-start:{self.name}"):
            for hook in self.on_start:
                hook(self)
        worker = self._build_worker(logging_config)
        worker.execute_from_commandline()

    def _wait_for_topics(self) -> None:
        """Until the topics it writes and reads exist (all its principal sees under ACLs)."""
        used = grant_for(self.name, self.handlers, self.publishes_for).topics
        wanted = [d.name for d in load_declarations() if d.name in used]
        deadline = time.monotonic() + self.platform.topic_wait_s
        while True:
            try:
                missing = missing_topics(
                    self.platform.kafka_bootstrap_servers,
                    wanted,
                    prefix=self.platform.kafka_topic_prefix,
                    credentials=self.platform.kafka_credentials(),
                )
            except Exception as exc:
                missing = {f"(broker unreachable, or our credentials refused: {exc!r})"}
            if not missing:
                return
            if time.monotonic() > deadline:
                raise SystemExit(
                    f"topics missing after {self.platform.topic_wait_s}s: "
                    f"{sorted(missing)[:5]}; run `python -m libs.events.topics create`"
                )
            log.info("waiting for topics", missing=len(missing))
            time.sleep(1.0)

    def _build_worker(self, logging_config: dict[str, Any]) -> Any:
        p = self.platform
        services: list[Any] = []
        if len(self.handlers):
            services.append(self._build_stream_app())
        http = AsgiService(
            self.admin_app(),
            host=p.http_host,
            port=self.http_port,
            uvicorn_options={"log_config": None, "access_log": False},
        )
        jobs = [
            Periodic("consumer_lag", 5.0, self._update_consumer_lag),
            Periodic("consumer_watchdog", 5.0, self._watch_consumers, first_run_s=5.0),
            Periodic("prune_processed", 3600.0, self._prune_processed),
            Periodic("retry_parked", p.consume_parked_retry_s, self._retry_parked),
            *self.periodic,
        ]
        services += [http, RelayService(self.relay, self.stop_event), UpkeepService(jobs)]
        # faust.Worker needs a Faust app first; a service that consumes nothing has none.
        worker_class = faust.Worker if self._app is not None else mode.Worker
        return worker_class(
            *services,
            loglevel=p.log_level,
            logging_config=logging_config,
            redirect_stdouts=False,
            quiet=True,
        )

    def _build_stream_app(self) -> Any:
        apply_client_fixes()
        p = self.platform
        datadir = p.data_dir / "faust" / self.name
        datadir.parent.mkdir(parents=True, exist_ok=True)
        app = faust.App(
            # The app id is the consumer group: namespaced like the topics on a shared cluster.
            p.kafka_topic_prefix + self.name,
            broker=[f"kafka://{s.strip()}" for s in p.kafka_bootstrap_servers.split(",")],
            broker_credentials=p.kafka_credentials().faust_credentials(),
            store="memory://",
            datadir=str(datadir),
            autodiscover=False,
            topic_allow_declare=False,
            topic_disable_leader=True,
            consumer_auto_offset_reset="earliest",
            broker_session_timeout=p.kafka_session_timeout_s,
            broker_heartbeat_interval=p.kafka_heartbeat_interval_s,
            broker_rebalance_timeout=p.kafka_rebalance_timeout_s,
            broker_max_poll_interval=p.kafka_max_poll_interval_s,
            broker_max_poll_records=p.kafka_max_poll_records,
            stream_buffer_maxsize=max(4096, p.consume_batch_size * 4),
            web_enabled=False,
        )
        tune_fetch_wait(app, p.kafka_fetch_max_wait_s)
        self._app = app
        for topic in self.handlers.topics():
            self._add_agent(app, topic)
        self._bind_tables_to_this_loop(app)
        return app

    @staticmethod
    def _bind_tables_to_this_loop(app: Any) -> None:
        """Create Faust's table manager and its recovery here, on the main thread.

        Faust creates them lazily without a loop, and mode then binds them to the loop of
        the thread that first asks, making a new, never-run loop in a thread that has none.
        ``/readyz`` (FastAPI's thread pool) and the watchdog (``to_thread``) read
        ``app.tables.recovery``: when one of them came first, the conductor waited on that
        dead loop for ever and the worker never subscribed to its topics (the "stuck group
        join" once blamed on the embedded broker; it happened on Apache Kafka alike).
        """
        app.tables.recovery  # noqa: B018 (created for its side effect)
        if app.tables.loop is not app.loop:
            raise RuntimeError("Faust's tables are bound to another event loop")

    def processor_for(self, topic: str) -> BatchProcessor:
        """``topic``'s processor: the worker's own, so an operator's replay and a batch take
        turns on its lock (made here first where no worker runs: tests). Also its agents'."""
        for processor in self._processors:
            if processor.topic == topic:
                return processor
        p = self.platform
        processor = BatchProcessor(
            consumer=self.name,
            handlers=self.handlers,
            uow_factory=self.unit_of_work,
            metrics=self.metrics,
            max_attempts=p.consume_max_attempts,
            stop=self.stop_event,
            reference_grace_s=p.consume_reference_grace_s,
            topic=topic,
        )
        self._processors.append(processor)
        return processor

    def _add_agent(self, app: Any, topic: str) -> None:
        p, processor = self.platform, self.processor_for(topic)
        prefix = p.kafka_topic_prefix
        channel = app.topic(
            physical_topic(topic, prefix),
            value_serializer="raw",
            key_serializer="raw",
            allow_empty=True,
        )
        offsets = self._processed_offsets

        async def consume(stream: Any) -> None:
            async for events in consumer_batches(stream, p):
                messages = [consumed_record(event.message, prefix) for event in events]
                try:
                    await asyncio.to_thread(processor.process, messages)
                except ProcessingStopped:
                    return  # unacknowledged: redelivered to whoever consumes next
                except BaseException as exc:
                    # Our own machinery failed, not a handler (those never raise). Acking
                    # would lose the batch and a clean stop would commit offsets: leave at
                    # once and let the supervisor restart the process.
                    log.critical("consumer machinery failed; exiting", error=repr(exc))
                    os._exit(70)
                for event in events:
                    await stream.ack(event)
                for message in messages:
                    offsets[(message.topic, message.partition)] = message.offset + 1

        app.agent(channel, name=f"{self.name}.consume.{topic}")(consume)

    def _update_consumer_lag(self) -> None:
        if self._app is not None:
            update_consumer_lag(
                self._app.consumer, self.platform.kafka_topic_prefix,
                self._processed_offsets, self.metrics,
            )  # fmt: skip

    def _retry_parked(self) -> None:
        """Events parked while what they name was unknown: apply those whose wait is over."""
        for processor in self._processors:
            processor.retry_parked()

    def _prune_processed(self) -> None:
        with self.database.sessions() as session:
            removed = prune_processed(session, PROCESSED_RETENTION, FACT_RETENTION)
            session.commit()
        if removed:
            log.info("pruned processed-event claims", removed=removed)
