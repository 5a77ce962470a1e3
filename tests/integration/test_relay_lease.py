"""Several processes of one service: one outbox relay publishes (a PostgreSQL advisory lock
elects it), the others stand by, and one of them takes over when the leader dies; their
start-up seeding takes turns.

PostgreSQL only: an SQLite database belongs to one process, and the launcher refuses to run
several processes of a service on it (tests/unit/platform/test_launcher_config.py).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, make_url, text

from libs.events.codec import decode
from libs.events.outbox import OutboxSignal, RelayLease
from libs.platform.database import Database, create_database
from tests.integration.test_outbox_relay import TOPIC, make_relay, pending
from tests.support.brokers import TestBroker
from tests.support.databases import postgres_database, require_postgres
from tests.support.delivery import facility, metrics, reporting_database, uow_factory
from tests.support.kafka import read_all, wait_for
from tests.support.services import REPO_ROOT


@pytest.fixture
def pg_url() -> Iterator[str]:
    require_postgres()
    with postgres_database("mc_lease") as url:
        yield url


@pytest.fixture
def engines(pg_url: str) -> Iterator[list[Engine]]:
    """Three engines on one database: three processes' worth of connections."""
    made = [create_engine(pg_url) for _ in range(3)]
    yield made
    for engine in made:
        engine.dispose()


def test_one_holder_at_a_time_and_the_next_once_the_first_lets_go(
    engines: list[Engine],
) -> None:
    first, second, third = (RelayLease(engine, "pharmacy") for engine in engines)
    assert first.acquire() and first.held
    assert not second.acquire() and not second.held
    assert first.acquire()  # asking again keeps it
    assert not second.acquire()
    # Another service's relay is elected on its own.
    assert RelayLease(engines[2], "finance").acquire()
    first.release()
    assert second.acquire()
    assert not first.acquire() and not third.acquire()
    second.release()
    assert third.acquire()
    third.release()


def test_the_lease_passes_on_when_the_leaders_process_dies(
    pg_url: str, engines: list[Engine]
) -> None:
    """A leader killed outright (no clean stop) loses the lease with its connection."""
    holder = textwrap.dedent(
        f"""
        import sys, time
        from sqlalchemy import create_engine
        from libs.events.outbox import RelayLease
        lease = RelayLease(create_engine({pg_url!r}), "pharmacy")
        print("lease:", "held" if lease.acquire() else "refused", flush=True)
        time.sleep(600)
        """
    )
    leader = subprocess.Popen(
        [sys.executable, "-c", holder], cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert leader.stdout is not None
        said = next(line for line in leader.stdout if line.startswith("lease:") or not line)
        assert said.strip() == "lease: held"
        standby = RelayLease(engines[0], "pharmacy")
        assert not standby.acquire()
        leader.kill()
        leader.wait(10)
        wait_for(standby.acquire, timeout_s=15, what="the standby to take the lease over")
        standby.release()
    finally:
        if leader.poll() is None:
            leader.kill()
            leader.wait(10)


def test_a_leader_whose_connection_was_cut_stands_for_election_again(
    engines: list[Engine],
) -> None:
    """No two leaders: a leader that lost its lock connection (terminated by the server, a
    network cut) finds out at its next round and does not publish while another holds it."""
    leader, standby = RelayLease(engines[0], "pharmacy"), RelayLease(engines[1], "pharmacy")
    assert leader.acquire()
    key = RelayLease.key_for("pharmacy")
    with engines[2].connect() as admin:
        admin.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_locks "
                "WHERE locktype = 'advisory' AND objid = :key AND granted "
                "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            ),
            {"key": key},
        )
        admin.commit()
    wait_for(standby.acquire, timeout_s=15, what="the lease to be free again")
    assert not leader.acquire() and not leader.held
    standby.release()
    assert leader.acquire()
    leader.release()


def test_outboxes_in_schemas_of_their_own_are_leased_apart(pg_url: str) -> None:
    """One database holding two copies of a service (a schema each, as a shared test
    database does) has a leader per copy; ``public`` keeps the key it always had."""
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    engines: list[Engine] = []
    try:
        with admin.connect() as conn:
            for schema in ("copy_a", "copy_b"):
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        for schema in ("copy_a", "copy_b"):
            url = make_url(pg_url).update_query_dict({"options": f"-csearch_path={schema}"})
            engines.append(create_engine(url))
        in_a, in_b = (RelayLease(engine, "pharmacy") for engine in engines)
        assert in_a.acquire() and in_b.acquire()
        in_public = RelayLease(admin, "pharmacy")
        assert in_public.acquire()
        assert not RelayLease(engines[0], "pharmacy").acquire()
        assert len({RelayLease.key_for("pharmacy", s) for s in ("public", "copy_a")}) == 2
        for lease in (in_a, in_b, in_public):
            lease.release()
    finally:
        for engine in engines:
            engine.dispose()
        admin.dispose()


@pytest.fixture
def database(pg_url: str) -> Iterator[Database]:
    db = reporting_database(pg_url)
    yield db
    db.dispose()


@pytest.mark.parametrize("broker", ["tansu"], indirect=True)
def test_a_relay_without_the_lease_publishes_nothing_until_it_takes_over(
    database: Database, broker: TestBroker
) -> None:
    """The standby is healthy (readiness must not fail a second process), leaves the outbox
    alone while the leader lives, and drains it in order once the leader is gone."""
    leader = RelayLease(database.engine, "test")  # the relay's name in make_relay
    assert leader.acquire()
    signal = OutboxSignal()
    relay_metrics = metrics()
    relay = make_relay(
        database, broker, signal=signal, metrics=relay_metrics, idle_poll_s=0.1, standby_poll_s=0.2
    )
    stop = threading.Event()
    thread = threading.Thread(target=relay.run, args=(stop,), daemon=True)
    try:
        new_uow = uow_factory(database, signal)
        with new_uow() as uow:
            staged = [uow.publish(facility(n)) for n in range(3)]
            uow.commit()
        thread.start()
        wait_for(lambda: relay.healthy, timeout_s=10, what="the standby to report healthy")
        assert relay_metrics.relay_leader._value.get() == 0
        assert not relay.lease.held
        stop.wait(1.0)  # five standby rounds
        assert pending(database) == 3
        assert read_all(broker.bootstrap_servers, TOPIC, timeout_s=5) == []

        leader.release()  # the leader's process stops
        wait_for(lambda: pending(database) == 0, timeout_s=30, what="the standby to take over")
        assert relay.lease.held
        assert relay_metrics.relay_leader._value.get() == 1
    finally:
        stop.set()
        thread.join(15)
        leader.release()
    records = read_all(broker.bootstrap_servers, TOPIC)
    assert [decode(r.value).id for r in records] == [e.id for e in staged]


def test_start_up_seeding_takes_turns(pg_url: str) -> None:
    """Two processes starting together run their start hooks one after the other
    (``Database.one_at_a_time``): the second enters only once the first has left."""
    first, second = (create_database(pg_url) for _ in range(2))
    entered, leave = threading.Event(), threading.Event()
    order: list[str] = []

    def hold() -> None:
        with first.one_at_a_time("on-start:pharmacy"):
            order.append("first in")
            entered.set()
            leave.wait(10)
            order.append("first out")

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert entered.wait(10)
        waiter = threading.Thread(target=lambda: _enter(second, order))
        waiter.start()
        waiter.join(1.0)
        assert waiter.is_alive() and order == ["first in"]  # waits while the first holds it
        with second.one_at_a_time("on-start:finance"):  # another name: no wait
            pass
        leave.set()
        waiter.join(10)
        assert order == ["first in", "first out", "second in"]
    finally:
        leave.set()
        holder.join(10)
        first.dispose()
        second.dispose()


def _enter(database: Database, order: list[str]) -> None:
    with database.one_at_a_time("on-start:pharmacy"):
        order.append("second in")
