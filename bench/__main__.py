"""``python -m bench``: the suite's numbers on this machine (docs/performance.md).

Starts a broker (``--broker tansu``, the embedded one, or ``--broker kafka``, a three-node
Apache Kafka cluster from tests/support/kafka_cluster.py), a PostgreSQL server (unless
``TEST_POSTGRES_ADMIN_URL`` names one) and staffing, pharmacy, finance, reporting and quality
on it, and measures, at one county's and at ``--large`` counties' worth of facilities:

(a) end-to-end prescriptions a second, ingestion → stock, ledger, indicator and review, and
    each process's CPU per prescription; at one county's scale with pharmacy as 1 and then
    2 processes in its consumer group (``--pharmacy-processes``), the second started beside
    the first on the same database. With quality running, the prescriptions of the facility
    types the county reviews before dispensing (township and community centres, village
    clinics: infra/quality/review-rules.yaml) go ingestion → quality's review → its release
    → pharmacy's dispensing → finance: the review hop is in the figures. Quality publishes
    the policy at start; the run waits until pharmacy holds it (``GET /review-policy``)
    before the first prescription, and checks first that the rules release every
    prescription the benchmark can issue (bench/review_check.py), since a held one would
    never be dispensed. ``--without-review`` leaves quality out (pharmacy holds no policy
    and dispenses everything at once): the figures without the hop, for comparison;
(b) in the same run, raw produce→consume of the same records with kafka-python and aiokafka
    on the same broker, and the ratio of (a) to each (one-county scale);
(c) p50/p99 ingestion → ledger entry at fixed offered loads (one-county scale), also split
    by whether the facility's type is reviewed before dispensing, and ingestion → review;
(d) admin HTTP reads: the pharmacy's stock query vs a bare FastAPI endpoint, and pharmacy's
    events a second while that query is read (vs idle);
(e) peak memory of each service process;
(f) gateway ingestion (bench/gateway.py): messages a second accepted by services/gateway
    and drained onto the ingestion topics, as single JSON messages, JSON batches and FHIR
    batch Bundles, against the same events sent straight onto Kafka with kafka-python; on
    a cluster of its own (staffing for the organisation, and the gateway). ``--only gateway``
    measures this alone, ``--only pipeline`` everything but this.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from bench import gateway, http_load, pipeline, raw
from bench.arguments import parse_arguments
from bench.cluster import (
    PSEUDONYM_SECRET,
    Cluster,
    cluster,
    machine_ticks,
    postgres,
)
from bench.county import LINES_PER_PRESCRIPTION, BenchCounty, Prescriptions, write_county
from bench.review_check import check_released, review_before_types
from libs.events import utc_now
from libs.events.catalogue.values import FacilityType
from libs.platform.auth import Role

#: Quality last: it publishes the review policy at start, which pharmacy must hold before the
#: first prescription (:func:`_wait_for_policy`); ``--without-review`` leaves it out.
SERVICES = ("administration", "staffing", "pharmacy", "finance", "reporting", "quality")
GATEWAY_SERVICES = ("administration", "staffing", "gateway")
RECEIVED = "pharmacy.stock.received.v1"


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _wait_until_stocked(running: Cluster, county: BenchCounty, timeout_s: float) -> float:
    """Every opening lot booked by pharmacy and posted by finance; returns the seconds taken."""
    started = time.monotonic()
    while pipeline.applied(running.services["finance"], RECEIVED) < county.lots:
        if time.monotonic() - started > timeout_s:
            raise TimeoutError("opening stock not booked in time")
        time.sleep(1)
    return time.monotonic() - started


def _wait_for_policy(
    running: Cluster, county_code: str, expected: list[str], timeout_s: float = 120.0
) -> float:
    """Until pharmacy holds quality's review policy for the county (``GET /review-policy``);
    returns the seconds waited. A prescription that arrived before would be dispensed at
    once, without the review (docs/pharmacy.md), and the figures would not include the hop.
    Without quality (``expected`` empty), checks that pharmacy holds no policy at all."""
    started = time.monotonic()
    with running.services["pharmacy"].client(Role.PHARMACY_CENTRE) as client:
        while True:
            response = client.get("/review-policy")
            response.raise_for_status()
            held = {p["county_code"]: p["review_before_dispensing"] for p in response.json()}
            if not expected:
                if held:
                    raise RuntimeError(f"pharmacy holds a review policy without quality: {held}")
                return 0.0
            if held.get(county_code) == expected:
                return time.monotonic() - started
            if time.monotonic() - started > timeout_s:
                raise TimeoutError(f"pharmacy holds {held}, not {county_code}: {expected}")
            time.sleep(0.5)


def measure_scale(
    args: argparse.Namespace, counties: int, work: Path, full: bool
) -> dict[str, Any]:
    county = write_county(counties, work / f"county-{counties}")
    env = {
        "ADMINISTRATION_COUNTY_CONFIG": str(county.config),
        "STAFFING_LOAD_SEED_STAFF": "false",
        "PHARMACY_OPENING_STOCK": str(county.opening_stock),
    }
    result: dict[str, Any] = {
        "broker": args.broker,
        "counties": counties,
        "facilities": len(county.facilities),
        "review": args.review,
    }
    names = SERVICES if args.review else tuple(s for s in SERVICES if s != "quality")
    # In both modes, so that the latency's split by facility type compares like with like.
    review_types = review_before_types(env)
    result["facilities_of_review_before_types"] = sum(
        f.facility_type in review_types for f in county.facilities
    )
    expected: list[str] = []
    if args.review:  # before anything starts: a held prescription would stall the run
        result["review_check"] = check = check_released(county, env)
        expected = sorted(t.value for t in review_types)
        _say(f"[{counties} counties] the review rules release every bench prescription: {check}")
    _say(f"[{counties} counties] starting {', '.join(names)}, {len(county.facilities)} facilities")
    with cluster(work / f"run-{counties}", names, env, broker=args.broker) as running:
        result["setup_s"] = round(_wait_until_stocked(running, county, 1800), 1)
        _say(f"[{counties} counties] {county.lots} opening lots booked in {result['setup_s']} s")
        code = yaml.safe_load(county.config.read_text())["county"]["code"]
        result["policy_wait_s"] = round(_wait_for_policy(running, code, expected), 1)
        _say(f"[{counties} counties] pharmacy's review policy: {expected or 'none'}")
        phases = {"stocked": _peaks(running)}
        prescriptions = Prescriptions(county, PSEUDONYM_SECRET.encode(), seed=counties)
        pipeline.throughput(running, prescriptions, 300)  # warm caches, JIT-free but not cold
        result.update(
            _end_to_end(args, running, county, prescriptions, counties, full, phases, review_types)
        )
        result["peak_memory_mib"] = _peaks(running)
        result["peak_memory_mib_by_phase"] = phases
        if running.kafka is not None:
            result["kafka_cluster"] = running.broker_cost()
    return result


def _peaks(running: Cluster) -> dict[str, float]:
    return {name: round(mib, 1) for name, mib in running.peak_memory_mib().items()}


def _end_to_end(
    args: argparse.Namespace,
    running: Cluster,
    county: BenchCounty,
    prescriptions: Prescriptions,
    counties: int,
    full: bool,
    phases: dict[str, dict[str, float]],
    review_types: frozenset[FacilityType],
) -> dict[str, Any]:
    """(a) with pharmacy as each count of processes in turn (at the large scale the first
    only); the other measurements of a full run with the first count, as before. ``phases``
    gets each process's peak memory so far after each measurement (the peak only grows)."""
    counts = args.pharmacy_processes if full else args.pharmacy_processes[:1]
    result: dict[str, Any] = {}
    by_processes: dict[str, Any] = {}
    for n, count in enumerate(counts):
        if count > len(running.processes("pharmacy")):
            by_processes[str(count)] = _more_pharmacy(running, count, counties)
            pipeline.throughput(running, prescriptions, 300)  # the new process warm too
        _say(f"[{counties} counties] offering {args.prescriptions} prescriptions, {count} pharmacy")
        cpu, ticks = running.cpu_seconds(), machine_ticks()
        e2e = pipeline.throughput(running, prescriptions, args.prescriptions)
        figures = _e2e_figures(e2e)
        figures.update(_cpu_figures(running, cpu, ticks, args.prescriptions))
        by_processes.setdefault(str(count), {}).update(figures)
        _say(f"[{counties} counties] end to end, {count} pharmacy: {figures}")
        phases[f"end_to_end_{count}"] = _peaks(running)
        if n == 0:
            result["e2e"] = figures
            if full:
                result.update(
                    _raw_and_latency(
                        args, running, prescriptions, e2e.per_s, counties, review_types
                    )
                )
                phases["latency"] = _peaks(running)
                result["http"] = _http(running, county, prescriptions, args.http_seconds, e2e.per_s)
                phases["reads"] = _peaks(running)
                _say(f"[{counties} counties] http: {result['http']}")
    result["e2e_by_pharmacy_processes"] = by_processes
    return result


def _more_pharmacy(running: Cluster, count: int, counties: int) -> dict[str, Any]:
    """Start pharmacy processes until there are ``count``, all in its consumer group; returns
    how the ingestion topic's partitions were shared (by the newest process)."""
    while len(running.processes("pharmacy")) < count:
        number = len(running.processes("pharmacy")) + 1
        _say(f"[{counties} counties] starting pharmacy process {number}")
        running.add_process("pharmacy")
    held = pipeline.wait_until_sharing(running, "pharmacy")
    _say(f"[{counties} counties] the newest pharmacy process holds partitions {sorted(held)}")
    return {"newest_process_partitions": sorted(held)}


def _e2e_figures(e2e: Any) -> dict[str, Any]:
    return {
        "prescriptions": e2e.prescriptions,
        "seconds": round(e2e.seconds, 1),
        "per_s": round(e2e.per_s, 1),
        "lines_per_s": round(e2e.per_s * LINES_PER_PRESCRIPTION, 1),
        "steady_ledger_per_s": round(e2e.steady_per_s, 1),
        "effect_done_s": {k: round(v, 1) for k, v in e2e.per_effect_s.items()},
    }


def _cpu_figures(
    running: Cluster, before: dict[str, float], ticks: tuple[int, int], count: int
) -> dict[str, Any]:
    """Each process's CPU milliseconds per prescription over the run just made (first send
    → last effect, and the moment of reading after it), and the share of the machine's
    cores busy meanwhile (everything on it included: other work too)."""
    after = running.cpu_seconds()
    busy, total = (a - b for a, b in zip(machine_ticks(), ticks, strict=True))
    per = {
        name: round((after[name] - before.get(name, 0.0)) * 1000 / count, 2)
        for name in sorted(after)
    }
    return {
        "cpu_ms_per_prescription": per,
        "cpu_ms_per_prescription_services": round(
            sum(v for k, v in per.items() if k != "tansu"), 2
        ),
        "machine_busy": round(busy / total, 3) if total else float("nan"),
    }


def _raw_and_latency(
    args: argparse.Namespace,
    running: Cluster,
    prescriptions: Prescriptions,
    e2e_per_s: float,
    counties: int,
    review_types: frozenset[FacilityType],
) -> dict[str, Any]:
    """The broker's own rate for the same records, and the latency at each offered rate."""
    batch = prescriptions.batch(args.prescriptions, utc_now())
    records = [(key, value) for _, key, value in batch]
    kp = raw.kafka_python(running.bootstrap, records)
    ak = raw.aiokafka(running.bootstrap, records)
    figures: dict[str, Any] = {
        "raw": {
            "kafka_python_per_s": round(kp, 1),
            "aiokafka_per_s": round(ak, 1),
            "e2e_to_kafka_python": round(e2e_per_s / kp, 4),
            "e2e_to_aiokafka": round(e2e_per_s / ak, 4),
        },
        "latency": [],
    }
    _say(f"[{counties} counties] raw: {figures['raw']}")
    for rate in args.latency_rates:
        lat = pipeline.latency(running, prescriptions, rate, args.latency_seconds, review_types)
        entry: dict[str, Any] = {
            "offered_per_s": lat.offered_per_s,
            "prescriptions": lat.prescriptions,
            "p50_ms": _ms(lat.p50_s),
            "p99_ms": _ms(lat.p99_s),
            "max_ms": _ms(lat.max_s),
            "p50_to_stock_ms": _ms(lat.p50_to_stock_s),
            "p99_to_stock_ms": _ms(lat.p99_to_stock_s),
        }
        if lat.p50_to_review_s is not None and lat.p99_to_review_s is not None:
            entry["p50_to_review_ms"] = _ms(lat.p50_to_review_s)
            entry["p99_to_review_ms"] = _ms(lat.p99_to_review_s)
        entry["by_review_kind"] = {
            kind: {
                "prescriptions": int(group["prescriptions"]),
                "p50_ms": _ms(group["p50_s"]),
                "p99_ms": _ms(group["p99_s"]),
                "p50_to_stock_ms": _ms(group["p50_to_stock_s"]),
            }
            for kind, group in lat.by_review_kind.items()
        }
        figures["latency"].append(entry)
        _say(f"[{counties} counties] latency: {figures['latency'][-1]}")
    return figures


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def _http(
    running: Cluster,
    county: BenchCounty,
    prescriptions: Prescriptions,
    seconds: float,
    capacity_per_s: float,
) -> dict[str, Any]:
    """(d): the stock query's rate against a bare FastAPI endpoint's, and pharmacy's events
    a second while the same query is read concurrently, against idle."""
    pharmacy = running.services["pharmacy"]
    facility = county.facilities[2].facility_id
    path = f"/stock/{facility}/drugs/QSY-W011"
    headers = {"Authorization": f"Bearer {pharmacy.token(Role.CLINIC_STAFF, facility)}"}
    stock = http_load.requests_per_s(pharmacy.url + path, headers, seconds)
    with http_load.BareApp() as bare:
        baseline = http_load.requests_per_s(bare + path, headers, seconds)
    under_reads = http_load.events_under_reads(
        running,
        prescriptions,
        path,
        headers,
        seconds=max(5.0, seconds),
        capacity_per_s=capacity_per_s,
    )
    return {
        "stock_query_per_s": round(stock, 1),
        "bare_fastapi_per_s": round(baseline, 1),
        "ratio": round(stock / baseline, 3),
        "events_under_reads": under_reads,
    }


def measure_gateway(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """(f) on its own cluster: staffing (the organisation the gateway needs) and the gateway,
    with a systems file of one member system per facility used and high rate limits."""
    county = write_county(1, work / "county-gateway")
    plan = gateway.Plan(
        args.gateway_messages, args.gateway_clients, facilities=args.gateway_facilities
    )
    env = {
        "ADMINISTRATION_COUNTY_CONFIG": str(county.config),
        "STAFFING_LOAD_SEED_STAFF": "false",
        "GATEWAY_SYSTEMS_CONFIG": str(plan.systems(county, work / "gateway-systems.yaml")),
    }
    _say(f"[gateway] starting staffing and the gateway on {args.broker}")
    with cluster(work / "run-gateway", GATEWAY_SERVICES, env, broker=args.broker) as running:
        figures = gateway.measure(
            running.services["gateway"],
            running.bootstrap,
            county,
            PSEUDONYM_SECRET.encode(),
            plan,
            _say,
        )
        result = {"section": "gateway", "broker": args.broker, **figures}
        result["peak_memory_mib"] = _peaks(running)
        if running.kafka is not None:
            result["kafka_cluster"] = running.broker_cost()
    return result


def main(argv: list[str] | None = None) -> int:
    args = parse_arguments(argv, __doc__)
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp, postgres():
        work = Path(tmp)
        if args.only != "gateway":
            results.append(measure_scale(args, 1, work, full=True))
            if args.large:
                results.append(measure_scale(args, args.large, work, full=False))
        if args.only != "pipeline":
            results.append(measure_gateway(args, work))
    report = json.dumps(results, indent=2, ensure_ascii=False)
    print(report)
    if args.json:
        args.json.write_text(report + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
