"""End-to-end measurements: prescriptions from the ingestion topic to their last effect.

A prescription is finished when the pharmacy has dispensed it (stock card), finance has
posted its dispensing (ledger) and reporting has counted it (indicator cells). Progress is
read from each service's public ``/metrics`` (events applied, by type; summed over the
processes of a service that runs several); ledger latencies from the finance database's
``posted_at``.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from datetime import datetime

from kafka import KafkaProducer
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, text

from bench.cluster import Cluster
from bench.county import Prescriptions
from libs.events import utc_now
from libs.events.provenance import EDGE_PRODUCER
from libs.events.topics import physical_topic
from libs.platform.exposition import sample_total
from tests.support.brokers import principal_of
from tests.support.services import ServiceHandle

TOPIC = "ingestion.prescription"
ISSUED = "ingestion.prescription.issued.v1"
DISPENSED = "pharmacy.prescription.dispensed.v1"
#: (service, event type) whose applied count marks each effect.
EFFECTS = {
    "stock": ("pharmacy", ISSUED),
    "ledger": ("finance", DISPENSED),
    "indicator": ("reporting", ISSUED),
}


def applied(handle: ServiceHandle, event_type: str) -> int:
    """Events of ``event_type`` this service applied (or skipped as duplicates), from /metrics;
    an event parked first (it named a facility the service learnt of later) counts once
    applied after its wait (``unparked_applied``), not when parked."""
    exposition = handle.metrics()
    name = f"{handle.name}_events_consumed_total"
    return int(
        sum(
            sample_total(exposition, name, type=event_type, outcome=outcome)
            for outcome in ("applied", "duplicate", "unparked_applied")
        )
    )


def applied_by(cluster: Cluster, service: str, event_type: str) -> int:
    """As :func:`applied`, summed over every process of ``service``."""
    return sum(applied(handle, event_type) for handle in cluster.processes(service))


def partitions_held(handle: ServiceHandle, topic: str = TOPIC) -> set[int]:
    """The partitions of ``topic`` this process has reported a lag for: those it has been
    assigned since it started (a process keeps the gauge of a partition it gave up)."""
    name = f"{handle.name}_consumer_lag"
    return {
        int(sample.labels["partition"])
        for family in text_string_to_metric_families(handle.metrics())
        for sample in family.samples
        if sample.name == name and sample.labels.get("topic") == topic
    }


def wait_until_sharing(cluster: Cluster, service: str, timeout_s: float = 120.0) -> set[int]:
    """Until every process of ``service`` is ready and the newest holds partitions of the
    ingestion topic (the group has rebalanced); returns the newest's partitions."""
    newest = cluster.processes(service)[-1]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        held = partitions_held(newest)
        if held and all(handle.ready() for handle in cluster.processes(service)):
            return held
        time.sleep(0.5)
    raise TimeoutError(f"{newest.name}'s new process got no partition of {TOPIC} in time")


def _producer(cluster: Cluster) -> KafkaProducer:
    # As a hospital information system would publish: acknowledged by every replica.
    return KafkaProducer(
        bootstrap_servers=cluster.bootstrap,
        acks="all",
        linger_ms=5,
        batch_size=256 * 1024,
        **principal_of(cluster.bootstrap, EDGE_PRODUCER).client_options(),
    )


@dataclass(frozen=True)
class Throughput:
    prescriptions: int
    seconds: float  # first send → last effect
    per_effect_s: dict[str, float]
    steady_per_s: float  # from ledger postings between the 10th and 90th percentile

    @property
    def per_s(self) -> float:
        return self.prescriptions / self.seconds


def _wait_for_effects(
    cluster: Cluster, targets: dict[str, int], started: float, timeout_s: float
) -> dict[str, float]:
    done: dict[str, float] = {}
    deadline = time.monotonic() + timeout_s
    while len(done) < len(EFFECTS):
        if time.monotonic() > deadline:
            raise TimeoutError(f"effects not finished in {timeout_s}s: {sorted(done)}")
        for effect, (service, event_type) in EFFECTS.items():
            count = applied_by(cluster, service, event_type)
            if effect not in done and count >= targets[effect]:
                done[effect] = time.monotonic() - started
        time.sleep(0.25)
    return done


def _targets(cluster: Cluster, count: int) -> dict[str, int]:
    return {
        effect: applied_by(cluster, service, event_type) + count
        for effect, (service, event_type) in EFFECTS.items()
    }


def _times(database_url: str, query: str, since: datetime) -> dict[str, datetime]:
    """Rows of (id, instant) from a service's database, as a mapping."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return dict(conn.execute(text(query), {"since": since}).tuples().all())
    finally:
        engine.dispose()


def _posted_at(cluster: Cluster, since: datetime) -> dict[str, datetime]:
    """Prescription id → when finance posted its dispensing, for postings after ``since``."""
    posted = _times(
        cluster.services["finance"].database_url,
        "SELECT source_key, posted_at FROM journal_entries "
        "WHERE entry_type = 'dispense' AND posted_at >= :since",
        since,
    )
    return {key.split(":")[1]: at for key, at in posted.items()}


def _handled_at(cluster: Cluster, since: datetime) -> dict[str, datetime]:
    """Prescription id → when pharmacy's handler ran (inside the dispensing transaction)."""
    return _times(
        cluster.services["pharmacy"].database_url,
        "SELECT prescription_id, handled_at FROM prescriptions WHERE handled_at >= :since",
        since,
    )


def _quantile(sorted_values: list[float], q: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * q))]


def throughput(cluster: Cluster, prescriptions: Prescriptions, count: int) -> Throughput:
    """Offer ``count`` prescriptions as fast as the producer sends them."""
    records = list(prescriptions.batch(count, utc_now()))  # encoded before the clock starts
    targets = _targets(cluster, count)
    topic = physical_topic(TOPIC)
    producer = _producer(cluster)
    since = utc_now()
    started = time.monotonic()
    for _, key, value in records:
        producer.send(topic, key=key, value=value)
    producer.flush()
    producer.close()
    done = _wait_for_effects(cluster, targets, started, timeout_s=max(300.0, count / 5))
    posted = sorted(_posted_at(cluster, since).values())
    low, high = posted[len(posted) // 10], posted[len(posted) * 9 // 10]
    window = (high - low).total_seconds()
    steady = (len(posted) * 8 // 10) / window if window > 0 else float("nan")
    return Throughput(count, max(done.values()), done, steady)


@dataclass(frozen=True)
class Latency:
    offered_per_s: float
    prescriptions: int
    p50_s: float
    p99_s: float
    max_s: float
    p50_to_stock_s: float  # ingestion → pharmacy's handler: the first hop alone
    p99_to_stock_s: float


def latency(
    cluster: Cluster, prescriptions: Prescriptions, per_s: float, seconds: float
) -> Latency:
    """Offer ``per_s`` prescriptions a second for ``seconds``; ingestion → ledger entry."""
    count = int(per_s * seconds)
    targets = _targets(cluster, count)
    topic = physical_topic(TOPIC)
    producer = _producer(cluster)
    issued: dict[str, datetime] = {}
    since = utc_now()
    started = time.monotonic()
    for n in range(count):
        pause = started + n / per_s - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        at = utc_now()
        prescription_id, key, value = prescriptions.next(at)
        issued[prescription_id] = at
        producer.send(topic, key=key, value=value)
    producer.flush()
    producer.close()
    _wait_for_effects(cluster, targets, started, timeout_s=max(300.0, seconds * 10))
    posted = _posted_at(cluster, since)
    handled = _handled_at(cluster, since)
    delays = sorted((posted[rx] - at).total_seconds() for rx, at in issued.items())
    first_hop = sorted((handled[rx] - at).total_seconds() for rx, at in issued.items())
    return Latency(
        per_s,
        len(delays),
        statistics.median(delays),
        _quantile(delays, 0.99),
        delays[-1],
        statistics.median(first_hop),
        _quantile(first_hop, 0.99),
    )
