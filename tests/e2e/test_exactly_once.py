"""A relay killed between publishing and marking republishes; the consumer applies once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
from sqlalchemy import func, select

from libs.events.codec import decode
from libs.events.outbox import OutboxRelay, kafka_producer_factory
from libs.events.tables import OutboxRecord
from libs.platform.database import create_database
from libs.platform.migrations import upgrade
from services.administration.adapters.schema import MIGRATIONS as PRODUCER_MIGRATIONS
from tests.conftest import Suite
from tests.support.brokers import prefix_of, principal_env, principal_of
from tests.support.delivery import facility, metrics, uow_factory
from tests.support.kafka import read_all, wait_for
from tests.support.services import REPO_ROOT

TOPIC = "organisation.facility"


@pytest.mark.parametrize("broker", ["kafka", "tansu"], indirect=True)
def test_redelivery_after_a_relay_crash_is_skipped_by_the_consumer(
    suite: Suite, make_database
) -> None:
    reporting = suite.start("reporting")["reporting"]
    # The producer: an administration database with three registrations committed to its outbox.
    producer_url = make_database("administration")
    upgrade(PRODUCER_MIGRATIONS, producer_url)
    producer = create_database(producer_url)
    with uow_factory(producer)() as uow:
        staged = [uow.publish(facility(n)) for n in range(3)]
        uow.commit()

    crashed = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.support.crashing_relay",
            producer_url,
            suite.bootstrap,
            "administration",
            prefix_of(suite.bootstrap),
        ],
        cwd=REPO_ROOT,
        env={**os.environ, **principal_env(suite.bootstrap, "administration")},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert crashed.returncode == -signal.SIGKILL, crashed.stdout + crashed.stderr
    assert "dying before marking" in crashed.stdout
    with producer.sessions() as session:
        unmarked = session.scalar(
            select(func.count())
            .select_from(OutboxRecord)
            .where(OutboxRecord.published_at.is_(None))
        )
    assert unmarked == 3  # published, but the relay never recorded it

    # The reporting service already applied the first copies.
    wait_for(
        lambda: (
            reporting.metric("reporting_member_facilities", community="QS-MC1", tier="primary") == 3
        ),
        what="first copies applied",
    )

    # A restarted relay publishes the same records again.
    relay = OutboxRelay(
        producer.sessions,
        producer.engine,
        kafka_producer_factory(
            suite.bootstrap,
            "administration-relay",
            credentials=principal_of(suite.bootstrap, "administration"),
        ),
        name="administration",
        metrics=metrics("administration"),
        topic_prefix=prefix_of(suite.bootstrap),
    )
    assert relay.publish_pending() == 3
    records = [decode(r.value) for r in read_all(suite.bootstrap, TOPIC)]
    assert sorted(e.id for e in records) == sorted([e.id for e in staged] * 2)

    wait_for(
        lambda: (
            reporting.metric(
                "reporting_events_consumed_total",
                outcome="duplicate",
                topic=TOPIC,
                type="organisation.facility.registered.v1",
            )
            == 3
        ),
        what="the redelivered copies to be skipped",
    )
    assert reporting.metric("reporting_member_facilities", community="QS-MC1", tier="primary") == 3
    assert (
        reporting.metric(
            "reporting_events_consumed_total",
            outcome="applied",
            topic=TOPIC,
            type="organisation.facility.registered.v1",
        )
        == 3
    )
    producer.dispose()
