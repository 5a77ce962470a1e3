"""Faults, each under a simulated county's traffic: the same seeded day is played once
undisturbed and then once per disturbance, on a three-node Kafka cluster of this module's
own (its brokers are killed, which the run's shared cluster must never see), by the six
services a county day needs (the review centre included: its holds, the desk's decisions and
pharmacy's gate ride through every fault). The undisturbed day is also checked for every
cross-domain reaction (tests/support/reactions.py):

- chaos: every service is SIGKILLed and restarted on its database three times while the day
  is played;
- brokers: the broker leading most ingestion partitions is SIGKILLed in the morning peak and
  started again; then the broker coordinating the consumer groups is frozen (SIGSTOP) past
  the session timeouts and resumed; in the afternoon peak two of three brokers are down,
  below min ISR 2 (producers and relays hold without loss, consumers wait, and everything
  drains when the brokers return); from the evening a rolling restart of all three brokers
  (each stopped, started, caught up).

After each run every indicator, every facility's stock of every drug and every book's
account totals equal the undisturbed run's, nothing is dead-lettered that it did not
dead-letter, and both runs reconcile: nothing lost, nothing doubled. The four broker faults
share one day (each begins at its hour at the earliest, once the one before is over): a day
costs two to four minutes of CI to set up, play and read back, a fault a few seconds.

Kafka's idempotent producer and group protocol ride out most broker faults without
delivering anything twice. Records arrive twice when a producer gives up on a send and sends
again — the relays after a failed round; the hospital systems' interface engines, which
replay everything since their last checkpoint when a delivery fails (the simulated feed does,
tests/unit/simulator/test_event_sink.py) — and when a hung coordinator makes its groups
rebalance before they could commit. So every producer here gives up a send after
``DELIVERY_TIMEOUT_S``, shorter than the faults, as under a long outage, and each day's first
broker fault begins at 08:00 of the simulated day, when the morning peak begins. With
``BREAK_DEDUP=1`` the disturbed suites run with deduplication broken on purpose: every test
here then fails (a rolling restart alone, each broker shut down cleanly with its partitions
handed over first, delivers nothing twice: it shows that nothing is lost, not that
deduplication works, which is why it shares a day with the other faults).

Real Kafka only: the embedded broker is one node and keeps nothing across a restart.
PostgreSQL only, as every end-to-end test: a SIGKILLed service's open transaction is then
rolled back by a separate server (the crash path that matters). ``CHAOS_KILLS`` and
``CHAOS_SEED`` vary the service kills for a longer hunt by hand.
"""

from __future__ import annotations

import os
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import Suite
from tests.support.brokers import namespace_on, prefix_of
from tests.support.chaos import SERVICES, ChaosMonkey
from tests.support.county_runs import SEED, Outcome, day_end, dedup_wrapper, differences, play
from tests.support.databases import database_url
from tests.support.kafka_cluster import KafkaCluster
from tests.support.reactions import check_every_reaction
from tests.support.testbed import uses_tansu_only

# Alone: it kills and freezes brokers and services under a simulated county on a cluster of
# its own; beside the other workers on 2 cores it ran three times as long and timed out.
pytestmark = [pytest.mark.e2e, pytest.mark.alone]

#: The broker faults' day is spread over this many real seconds (three per simulated hour),
#: so that its four faults land mid-stream.
PLAY_S = 72.0
#: Services are killed over a longer day: each three times, each restart ready before the next.
CHAOS_PLAY_S = 45.0
KILLS_PER_SERVICE = int(os.environ.get("CHAOS_KILLS", "3"))
CHAOS_SEED = int(os.environ.get("CHAOS_SEED", str(SEED)))
#: When the broker faults begin at the earliest, in simulated hours: the morning and the
#: afternoon peaks and the evening (a fault at night meets no traffic).
MORNING, LATE_MORNING, AFTERNOON, EVENING = 8, 10, 14, 18
DOWN_S = 8.0
#: Past the test consumers' session timeout (6 s) and the broker's own (9 s), after which
#: the controller fences it and its partitions get new leaders.
FREEZE_S = 13.0
#: Every producer's patience with one send (relays and hospital systems), below each fault.
DELIVERY_TIMEOUT_S = 6.0
PRODUCERS = {"KAFKA_DELIVERY_TIMEOUT_S": "6", "KAFKA_REQUEST_TIMEOUT_S": "3"}
INGESTION = ("ingestion.prescription", "ingestion.visit")


class FaultLog:
    """When each step of a fault happened, and when the cluster was whole again."""

    def __init__(self) -> None:
        self.began = time.monotonic()
        self.steps: list[tuple[float, str]] = []
        self.restored_at: float | None = None

    def mark(self, step: str) -> None:
        self.steps.append((round(time.monotonic() - self.began, 1), step))

    def restored(self) -> None:
        self.mark("cluster whole again")
        self.restored_at = time.monotonic()


Fault = Callable[[KafkaCluster, str, FaultLog], None]
Script = tuple[tuple[int, Fault], ...]
"""Faults in order, each with the simulated hour it begins at, at the earliest."""


class ScriptedFault:
    """Runs a fault script in a thread from the moment the simulated acts start coming: each
    fault at its hour of the simulated day, or as soon as the one before is over."""

    def __init__(self, script: Script, cluster: KafkaCluster, topic_prefix: str) -> None:
        self.script, self.cluster, self.prefix = script, cluster, topic_prefix
        self.log = FaultLog()
        self.errors: list[str] = []
        self._thread = threading.Thread(target=self._run, name="broker-fault", daemon=True)

    def start(self) -> None:
        self.log = FaultLog()
        self._thread.start()

    def _run(self) -> None:
        try:
            for hour, fault in self.script:
                begins = self.log.began + PLAY_S * hour / 24
                time.sleep(max(0.0, begins - time.monotonic()))
                fault(self.cluster, self.prefix, self.log)
            self.log.restored()
        except Exception:
            self.errors.append(traceback.format_exc())

    def stop(self) -> None:
        self._thread.join(timeout=300)
        if self._thread.is_alive():
            self.errors.append("the fault script did not finish")


def ingestion_leader(cluster: KafkaCluster, prefix: str) -> int:
    """The node leading most partitions of the ingestion topics."""
    leaders = Counter(
        cluster.leader_of(prefix + topic, partition)
        for topic in INGESTION
        for partition in range(6)
    )
    return leaders.most_common(1)[0][0]


def kill_the_ingestion_leader(cluster: KafkaCluster, prefix: str, log: FaultLog) -> None:
    node = ingestion_leader(cluster, prefix)
    log.mark(f"SIGKILL node {node}, the leader of most ingestion partitions")
    cluster.kill(node)
    time.sleep(DOWN_S)
    log.mark(f"start node {node}")
    cluster.start_nodes(node)


def coordinator(cluster: KafkaCluster, prefix: str) -> int:
    """The node coordinating most of the suite's consumer groups (one per service)."""
    groups = Counter(cluster.coordinator_of(prefix + name) for name in SERVICES)
    return groups.most_common(1)[0][0]


def freeze_a_broker(cluster: KafkaCluster, prefix: str, log: FaultLog) -> None:
    """The coordinator freezes: its consumers' heartbeats hang instead of failing, so the
    group outlives their sessions elsewhere and rebalances."""
    node = coordinator(cluster, prefix)
    log.mark(f"SIGSTOP node {node}, coordinator of most consumer groups")
    cluster.freeze(node)
    time.sleep(FREEZE_S)
    log.mark(f"SIGCONT node {node}")
    cluster.thaw(node)
    cluster.wait_ready(nodes=[node])


def two_brokers_down(cluster: KafkaCluster, prefix: str, log: FaultLog) -> None:
    leader = ingestion_leader(cluster, prefix)
    other = next(n.node_id for n in cluster.nodes if n.node_id != leader)
    log.mark(f"SIGKILL nodes {leader} and {other}: one broker left, below min ISR")
    cluster.kill(leader)
    cluster.kill(other)
    time.sleep(DOWN_S)
    log.mark(f"start nodes {leader} and {other}")
    cluster.start_nodes(leader, other)


def rolling_restart(cluster: KafkaCluster, prefix: str, log: FaultLog) -> None:
    for node in cluster.nodes:
        log.mark(f"stop node {node.node_id}")
        cluster.stop_node(node.node_id)
        cluster.start_nodes(node.node_id)
        cluster.wait_fully_replicated()
        log.mark(f"node {node.node_id} back and caught up")


FAULTS: dict[str, Script] = {
    "brokers": (
        (MORNING, kill_the_ingestion_leader),
        (LATE_MORNING, freeze_a_broker),
        (AFTERNOON, two_brokers_down),
        (EVENING, rolling_restart),
    ),
}


@pytest.fixture(scope="module")
def fault_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaCluster]:
    """A cluster of this module's own: its brokers are killed."""
    if uses_tansu_only():
        pytest.skip("TEST_BROKER=tansu: these faults need the real Kafka cluster")
    with KafkaCluster(tmp_path_factory.mktemp("fault-cluster")) as cluster:
        yield cluster


@contextmanager
def suite_on(
    cluster: KafkaCluster, directory: Path, *, wrapper: str | None = None
) -> Iterator[Suite]:
    """A fresh suite: a topic namespace of its own on ``cluster``, PostgreSQL databases."""
    with namespace_on(cluster.bootstrap_servers, cluster.secret) as address, ExitStack() as stack:
        suite = Suite(
            address,
            lambda name: stack.enter_context(database_url("postgresql", directory, name)),
            directory / "data",
            wrapper=wrapper,
        )
        try:
            yield suite
        finally:
            suite.stop_all()


@pytest.fixture(scope="module")
def end() -> datetime:
    """One plan for every run of the module (see tests/support/county_runs.py)."""
    return day_end(need=timedelta(minutes=15))


@pytest.fixture(scope="module")
def calm(
    fault_cluster: KafkaCluster, end: datetime, tmp_path_factory: pytest.TempPathFactory
) -> Outcome:
    """The day played without any fault: what every disturbed run must equal, and checked
    for every reaction it must cause while its suite still runs (tests/support/reactions.py)."""
    with suite_on(fault_cluster, tmp_path_factory.mktemp("calm")) as suite:
        outcome = play(suite, end)
        try:
            check_every_reaction(suite, outcome.day)
        except AssertionError:
            outcome.reactions = traceback.format_exc()
    assert outcome.problems == [], outcome.problems[:10]
    assert len(outcome.values) > 50 and outcome.stock and outcome.books
    return outcome


@pytest.mark.timeout(600)  # it sets up the module's undisturbed day: ~3 min, 5 under load
def test_a_simulated_day_causes_every_reaction_and_everything_reconciles(calm: Outcome) -> None:
    """The county's day without faults: every cross-domain reaction, books and stock cards
    reconciled, nothing dead-lettered."""
    assert not calm.reactions, calm.reactions


def make_whole(cluster: KafkaCluster) -> None:
    """Every node running and caught up, whatever a failed test left behind."""
    for node in cluster.nodes:
        if node.alive():
            cluster.thaw(node.node_id)
    dead = [n.node_id for n in cluster.nodes if not n.alive()]
    if dead:
        cluster.start_nodes(*dead)
    cluster.wait_fully_replicated()


@pytest.mark.timeout(600)
def test_killed_and_restarted_services_lose_and_double_nothing(
    fault_cluster: KafkaCluster, calm: Outcome, end: datetime, tmp_path: Path
) -> None:
    make_whole(fault_cluster)
    with suite_on(fault_cluster, tmp_path, wrapper=dedup_wrapper()) as suite:
        monkey = ChaosMonkey(
            suite, seed=CHAOS_SEED, kills=KILLS_PER_SERVICE, span_s=CHAOS_PLAY_S - 8
        )
        chaos = play(suite, end, disturbance=monkey, play_s=CHAOS_PLAY_S)
    assert not monkey.errors, monkey.errors
    counts = monkey.counts()
    print(f"chaos: kills {counts}; restarts took "
          f"{[round(k.restarted_after_s, 1) for k in monkey.kills]} s; the simulator waited "
          f"out {dict(sorted(chaos.day.result.faults.items()))}")  # fmt: skip
    assert all(n >= 2 for n in counts.values()), counts
    late = [k for k in monkey.kills if k.at_s > chaos.play_s]
    assert len(late) <= len(monkey.kills) // 3, ("kills after the day", late, chaos.play_s)
    # Nothing lost, nothing doubled: the same effects as without faults.
    found = differences(calm, chaos)
    print(f"chaos: {'lost 0, doubled 0' if not found else found[:20]}")
    assert found == []


@pytest.mark.timeout(900)  # 216 s alone; over 600 once beside the other two workers in CI
@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_broker_fault_loses_and_doubles_nothing(
    fault: str, fault_cluster: KafkaCluster, calm: Outcome, end: datetime, tmp_path: Path
) -> None:
    make_whole(fault_cluster)
    with suite_on(fault_cluster, tmp_path, wrapper=dedup_wrapper()) as suite:
        disturbance = ScriptedFault(FAULTS[fault], fault_cluster, prefix_of(suite.bootstrap))
        try:
            outcome = play(
                suite, end, disturbance=disturbance, play_s=PLAY_S, env=PRODUCERS,
                delivery_timeout_s=DELIVERY_TIMEOUT_S,
            )  # fmt: skip
            skipped = {
                name: handle.metric(f"{name}_events_consumed_total", outcome="duplicate")
                for name, handle in suite.started.items()
            }
        finally:
            make_whole(fault_cluster)
    assert not disturbance.errors, disturbance.errors
    restored = disturbance.log.restored_at
    assert restored is not None
    found = differences(calm, outcome)
    caught_up = outcome.acts_ended_at + outcome.settled_s
    print(
        f"{fault}: {sum(outcome.sent.values())} records sent by the hospital systems "
        f"({outcome.day.result.faults.get('his:resent', 0)} sent again after a failed delivery),"
        f" {'lost 0, doubled 0' if not found else found[:5]}; duplicates skipped by the "
        f"consumers {sum(skipped.values()):.0f} {dict((k, int(v)) for k, v in skipped.items())};"
        f" steps {disturbance.log.steps}; caught up "
        f"{caught_up - max(restored, outcome.acts_ended_at):.1f} s after the last act and the "
        f"whole cluster were back (undisturbed: {calm.settled_s:.1f} s after the last act)"
    )
    assert found == []
