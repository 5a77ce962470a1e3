"""The transactional outbox and its relay, against the real broker and real databases."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import func, select

from libs.events.codec import decode
from libs.events.outbox import OutboxRelay, OutboxSignal, kafka_producer_factory
from libs.events.tables import OutboxRecord
from libs.platform.database import Database
from tests.support.brokers import TestBroker, credentials_of
from tests.support.delivery import facility, metrics, reporting_database, uow_factory
from tests.support.kafka import read_all, wait_for

TOPIC = "organisation.facility"


@pytest.fixture
def database(make_database: Callable[[str], str]) -> Iterator[Database]:
    db = reporting_database(make_database("producer"))
    yield db
    db.dispose()


def make_relay(
    database: Database, broker: TestBroker, signal: OutboxSignal | None = None, **kwargs
) -> OutboxRelay:
    return OutboxRelay(
        database.sessions,
        database.engine,
        kafka_producer_factory(
            broker.bootstrap_servers,
            "test-relay",
            credentials=credentials_of(broker.bootstrap_servers),
            max_block_ms=2000,
            bootstrap_timeout_ms=2000,
            request_timeout_ms=3000,
            delivery_timeout_ms=5000,
        ),
        name="test",
        metrics=kwargs.pop("metrics", metrics()),
        signal=signal,
        topic_prefix=broker.topic_prefix,
        **kwargs,
    )


def pending(database: Database) -> int:
    with database.sessions() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(OutboxRecord)
                .where(OutboxRecord.published_at.is_(None))
            )
            or 0
        )


@pytest.mark.parametrize("broker", ["kafka", "tansu"], indirect=True)
def test_an_event_staged_in_a_rolled_back_transaction_is_never_published(
    database: Database, broker: TestBroker
) -> None:
    new_uow = uow_factory(database)

    def failing_change() -> None:
        with new_uow() as uow:
            uow.publish(facility(1))
            raise RuntimeError("the state change failed")

    with pytest.raises(RuntimeError):
        failing_change()
    with new_uow() as uow:
        kept = uow.publish(facility(2))
        uow.commit()
    assert make_relay(database, broker).publish_pending() == 1
    records = read_all(broker.bootstrap_servers, TOPIC)
    assert [decode(r.value).id for r in records] == [kept.id]
    with database.sessions() as session:
        assert session.scalar(select(func.count()).select_from(OutboxRecord)) == 1
    assert pending(database) == 0


@pytest.mark.parametrize("broker", ["kafka", "tansu"], indirect=True)
def test_the_relay_publishes_in_commit_order_keyed_by_aggregate(
    database: Database, broker: TestBroker
) -> None:
    new_uow = uow_factory(database)
    published = []
    for round_ in range(10):
        with new_uow() as uow:
            for n in range(5):
                published.append(uow.publish(facility(n, community=f"C{round_}")))
            uow.commit()
    relay_metrics = metrics()
    relay = make_relay(database, broker, metrics=relay_metrics)
    assert relay.publish_pending() == 50
    records = read_all(broker.bootstrap_servers, TOPIC)
    assert len(records) == 50
    for record in records:
        assert record.headers["content-type"].startswith(b"application/cloudevents+json")
        assert record.key == decode(record.value).subject.encode()
    # One aggregate's events arrive in the order they were committed.
    for n in range(5):
        key = f"F-{n:03d}".encode()
        seen = [decode(r.value).id for r in records if r.key == key]
        assert seen == [e.id for e in published if e.subject == key.decode()]
    assert pending(database) == 0
    relay._refresh_gauges(force=True)
    assert relay_metrics.outbox_pending._value.get() == 0


@pytest.mark.parametrize("broker", ["tansu"], indirect=True)
def test_the_relay_holds_its_outbox_through_a_broker_outage_and_resumes(
    database: Database, broker: TestBroker
) -> None:
    """On the embedded broker only: the test stops the whole broker, which the run's shared
    cluster cannot be (tests/e2e/test_broker_faults.py takes a real cluster below min ISR)."""
    signal = OutboxSignal()
    relay_metrics = metrics()
    relay = make_relay(database, broker, signal=signal, metrics=relay_metrics, idle_poll_s=0.1)
    stop = threading.Event()
    thread = threading.Thread(target=relay.run, args=(stop,), daemon=True)
    broker.stop()
    try:
        new_uow = uow_factory(database, signal)
        with new_uow() as uow:
            staged = [uow.publish(facility(n)) for n in range(3)]
            uow.commit()
        thread.start()
        wait_for(
            lambda: relay_metrics.relay_errors._value.get() >= 1,
            timeout_s=30,
            what="a failed relay round",
        )
        # The backlog is visible while nothing gets out (refreshed after each failed round).
        wait_for(
            lambda: relay_metrics.outbox_pending._value.get() == 3,
            timeout_s=30,
            what="the pending gauge",
        )
        assert pending(database) == 3
        assert not relay.healthy

        broker.start()  # same port; the embedded broker comes back empty, topics recreated
        wait_for(lambda: pending(database) == 0, timeout_s=60, what="the outbox to drain")
    finally:
        stop.set()
        thread.join(15)
    records = read_all(broker.bootstrap_servers, TOPIC)
    assert sorted(decode(r.value).id for r in records) == sorted(e.id for e in staged)
    assert relay.healthy
