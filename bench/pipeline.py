"""End-to-end measurements: prescriptions from the ingestion topic to their last effect.

A prescription is finished when the pharmacy has dispensed it (stock card), finance has
posted its dispensing (ledger) and reporting has counted it (indicator cells); with the
quality service running, also when quality has reviewed it. Where the county reviews before
dispensing (docs/quality.md: township and community centres, village clinics), pharmacy
holds the HIS's prescription and dispenses it on quality's release: the review is a hop in
the path, so "stock" is counted from pharmacy's dispensings (its ``prescriptions`` rows,
written in the dispensing's transaction), never from pharmacy's applied HIS events (holding
one applies it too), and the ledger, posted from pharmacy's dispensing event, comes after
the review. Progress is otherwise read from each service's public ``/metrics`` (events
applied, by type; summed over the processes of a service that runs several); latencies from
the databases' instants (finance's ``posted_at``, pharmacy's ``handled_at``, quality's
``reviewed_at``).
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kafka import KafkaProducer
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from bench.cluster import Cluster
from bench.county import Prescriptions
from libs.events import utc_now
from libs.events.catalogue.values import FacilityType
from libs.events.provenance import EDGE_PRODUCER
from libs.events.topics import physical_topic
from libs.platform.exposition import sample_total
from tests.support.brokers import principal_of
from tests.support.services import ServiceHandle

TOPIC = "ingestion.prescription"
ISSUED = "ingestion.prescription.issued.v1"
DISPENSED = "pharmacy.prescription.dispensed.v1"
RELEASED = "quality.prescription.released.v1"
#: (service, event type) whose applied count marks each effect but the stock (read from
#: pharmacy's database: :func:`dispensed`). The ledger is posted from pharmacy's dispensing,
#: so it follows the review where the review comes first; the indicator counts the HIS's
#: prescription, which the review does not change; the review, and quality's record of the
#: dispensing for the monthly audit (处方点评), are counted only when quality runs
#: (``--without-review`` does not start it).
EFFECTS = {
    "ledger": ("finance", DISPENSED),
    "indicator": ("reporting", ISSUED),
    "review": ("quality", ISSUED),
    "audit": ("quality", DISPENSED),
}
#: Waited for, so that the next measurement starts idle, but not part of the end-to-end
#: figure, and counted whatever became of the event (:func:`settled_by`): quality's audit
#: record of a dispensing is beside the ledger, off the path a prescription takes to the
#: patient and the ledger. A hospital's prescription is dispensed before its review; its
#: dispensing waits, parked, for the review, and is dead-lettered (``unreviewed_prescription``)
#: when the review lags more than ``CONSUME_REFERENCE_GRACE_S`` behind, as it did in the
#: first runs here: waiting for it to be applied would wait for ever.
OFF_PATH = frozenset({"audit"})
STOCK = "stock"


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


def settled_by(cluster: Cluster, service: str, event_type: str) -> int:
    """Events of ``event_type`` this service is done with, whatever became of them (applied,
    a duplicate, ignored or dead-lettered; a parked one once it left the parking), summed
    over its processes."""
    name = f"{service}_events_consumed_total"
    total = 0.0
    for handle in cluster.processes(service):
        exposition = handle.metrics()
        total += sample_total(exposition, name, type=event_type) - sample_total(
            exposition, name, type=event_type, outcome="parked"
        )
    return int(total)


def applied_by(cluster: Cluster, service: str, event_type: str) -> int:
    """As :func:`applied`, summed over every process of ``service``."""
    return sum(applied(handle, event_type) for handle in cluster.processes(service))


def dispensed(cluster: Cluster) -> int:
    """Prescriptions pharmacy has handled (dispensed, or rejected: the benchmark's are all
    dispensed), from its database, shared by all its processes: a row is written in the
    dispensing's transaction, after the review where the review comes first."""
    return _scalar(cluster.services["pharmacy"].database_url, "SELECT count(*) FROM prescriptions")


def pharmacy_events(cluster: Cluster) -> int:
    """The prescription events pharmacy has applied: the HIS's (dispensed at once, or held
    for the review) and quality's releases (dispensed, or nothing to do when the review
    came after the dispensing)."""
    return applied_by(cluster, "pharmacy", ISSUED) + applied_by(cluster, "pharmacy", RELEASED)


def _effects(cluster: Cluster) -> dict[str, int]:
    """Each effect's count now (the review only when quality runs)."""
    counts = {STOCK: dispensed(cluster)}
    for effect, (service, event_type) in EFFECTS.items():
        if service in cluster.services:
            count = settled_by if effect in OFF_PATH else applied_by
            counts[effect] = count(cluster, service, event_type)
    return counts


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
    seconds: float  # first send → last effect (but those ``OFF_PATH``)
    per_effect_s: dict[str, float]
    steady_per_s: float  # from ledger postings between the 10th and 90th percentile

    @property
    def per_s(self) -> float:
        return self.prescriptions / self.seconds


def _wait_for_effects(
    cluster: Cluster, targets: dict[str, int], started: float, timeout_s: float
) -> dict[str, float]:
    """Seconds from ``started`` until each effect reached its target; a timeout names the
    effects not done and how far each got (a held prescription would stop the stock)."""
    done: dict[str, float] = {}
    deadline = time.monotonic() + timeout_s
    while True:
        counts = _effects(cluster)
        for effect, count in counts.items():
            if effect not in done and count >= targets[effect]:
                done[effect] = time.monotonic() - started
        if len(done) == len(targets):
            return done
        if time.monotonic() > deadline:
            behind = {e: f"{counts[e]}/{targets[e]}" for e in targets if e not in done}
            raise TimeoutError(f"effects not finished in {timeout_s}s: {behind}")
        time.sleep(0.25)


def _targets(cluster: Cluster, count: int) -> dict[str, int]:
    return {effect: now + count for effect, now in _effects(cluster).items()}


def _rows(database_url: str, query: str, since: datetime | None = None) -> list[tuple[Any, ...]]:
    # NullPool: no connection outlives the query (the run drops the databases at its end).
    engine = create_engine(database_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            params = {} if since is None else {"since": since}
            return [tuple(row) for row in conn.execute(text(query), params)]
    finally:
        engine.dispose()


def _scalar(database_url: str, query: str) -> int:
    return int(_rows(database_url, query)[0][0])


def _times(database_url: str, query: str, since: datetime) -> dict[str, datetime]:
    """Rows of (id, instant) from a service's database, as a mapping."""
    return {key: at for key, at in _rows(database_url, query, since)}


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
    """Prescription id → when pharmacy's handler dispensed it (inside the dispensing
    transaction; on quality's release where the review comes first)."""
    return _times(
        cluster.services["pharmacy"].database_url,
        "SELECT prescription_id, handled_at FROM prescriptions WHERE handled_at >= :since",
        since,
    )


def _reviewed_at(cluster: Cluster, since: datetime) -> dict[str, datetime]:
    """Prescription id → when quality reviewed it (its rules' pass, in the handler)."""
    return _times(
        cluster.services["quality"].database_url,
        "SELECT prescription_id, reviewed_at FROM reviews WHERE reviewed_at >= :since",
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
    seconds = max(at for effect, at in done.items() if effect not in OFF_PATH)
    return Throughput(count, seconds, done, steady)


@dataclass(frozen=True)
class Latency:
    offered_per_s: float
    prescriptions: int
    p50_s: float  # ingestion → ledger entry, every prescription
    p99_s: float
    max_s: float
    # ingestion → pharmacy's dispensing (``handled_at``): the first hop alone where nothing is
    # reviewed first; with the review, through it for the facilities reviewed before.
    p50_to_stock_s: float
    p99_to_stock_s: float
    # ingestion → quality's review (``reviewed_at``); ``None`` without quality.
    p50_to_review_s: float | None = None
    p99_to_review_s: float | None = None
    #: ingestion → ledger entry split by the facility's type: ``review_before`` those of the
    #: rules' ``review_before_dispensing`` (the hop is in their path when quality runs),
    #: ``review_after`` the others (the hospitals: dispensed at once either way); each
    #: ``{"prescriptions", "p50_s", "p99_s", "p50_to_stock_s"}``.
    by_review_kind: dict[str, dict[str, float]] = field(default_factory=dict)


def _by_review_kind(
    prescriptions: Prescriptions,
    review_types: frozenset[FacilityType],
    issued: dict[str, datetime],
    facility_of: dict[str, str],
    posted: dict[str, datetime],
    handled: dict[str, datetime],
) -> dict[str, dict[str, float]]:
    """The latency figures of the facilities reviewed before dispensing and of the others."""
    kinds: dict[str, dict[str, float]] = {}
    for kind, before in (("review_before", True), ("review_after", False)):
        ids = [
            rx
            for rx in issued
            if (prescriptions.facility_type(facility_of[rx]) in review_types) is before
        ]
        if ids:
            ledger = sorted((posted[rx] - issued[rx]).total_seconds() for rx in ids)
            stock = sorted((handled[rx] - issued[rx]).total_seconds() for rx in ids)
            kinds[kind] = {
                "prescriptions": len(ids),
                "p50_s": statistics.median(ledger),
                "p99_s": _quantile(ledger, 0.99),
                "p50_to_stock_s": statistics.median(stock),
            }
    return kinds


def latency(
    cluster: Cluster,
    prescriptions: Prescriptions,
    per_s: float,
    seconds: float,
    review_types: frozenset[FacilityType] = frozenset(),
) -> Latency:
    """Offer ``per_s`` prescriptions a second for ``seconds``; ingestion → ledger entry.
    ``review_types``: the facility types the rules review before dispensing, for the split."""
    count = int(per_s * seconds)
    targets = _targets(cluster, count)
    topic = physical_topic(TOPIC)
    producer = _producer(cluster)
    issued: dict[str, datetime] = {}
    facility_of: dict[str, str] = {}
    since = utc_now()
    started = time.monotonic()
    for n in range(count):
        pause = started + n / per_s - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        at = utc_now()
        prescription_id, key, value = prescriptions.next(at)
        issued[prescription_id], facility_of[prescription_id] = at, key.decode()
        producer.send(topic, key=key, value=value)
    producer.flush()
    producer.close()
    _wait_for_effects(cluster, targets, started, timeout_s=max(300.0, seconds * 10))
    posted = _posted_at(cluster, since)
    handled = _handled_at(cluster, since)
    delays = sorted((posted[rx] - at).total_seconds() for rx, at in issued.items())
    first_hop = sorted((handled[rx] - at).total_seconds() for rx, at in issued.items())
    to_review: list[float] = []
    if "quality" in cluster.services:
        reviewed = _reviewed_at(cluster, since)
        to_review = sorted((reviewed[rx] - at).total_seconds() for rx, at in issued.items())
    kinds = _by_review_kind(prescriptions, review_types, issued, facility_of, posted, handled)
    return Latency(
        per_s,
        len(delays),
        statistics.median(delays),
        _quantile(delays, 0.99),
        delays[-1],
        statistics.median(first_hop),
        _quantile(first_hop, 0.99),
        statistics.median(to_review) if to_review else None,
        _quantile(to_review, 0.99) if to_review else None,
        kinds,
    )
