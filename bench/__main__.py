"""``python -m bench``: the suite's numbers on this machine (docs/performance.md).

Starts a broker (``--broker tansu``, the embedded one, or ``--broker kafka``, a three-node
Apache Kafka cluster from tests/support/kafka_cluster.py), a PostgreSQL server (unless
``TEST_POSTGRES_ADMIN_URL`` names one) and staffing, pharmacy, finance and reporting on it,
and measures, at one county's and at ``--large`` counties' worth of facilities:

(a) end-to-end prescriptions a second, ingestion → stock, ledger and indicator; at one
    county's scale with pharmacy as 1 and then 2 processes in its consumer group
    (``--pharmacy-processes``), the second started beside the first on the same database;
(b) in the same run, raw produce→consume of the same records with kafka-python and aiokafka
    on the same broker, and the ratio of (a) to each (one-county scale);
(c) p50/p99 ingestion → ledger entry at fixed offered loads (one-county scale);
(d) admin HTTP reads: the pharmacy's stock query vs a bare FastAPI endpoint, and pharmacy's
    events a second while that query is read (vs idle);
(e) peak memory of each service process;
(f) gateway ingestion (bench/gateway.py): messages a second accepted by services/gateway
    and drained onto the ingestion topics, as single JSON messages, JSON batches and FHIR
    batch Bundles, against the same events sent straight onto Kafka with kafka-python; on
    a cluster of its own (staffing for the organisation, and the gateway). ``--only gateway``
    measures this alone.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import gateway, http_load, pipeline, raw
from bench.cluster import BROKERS, PSEUDONYM_SECRET, Cluster, cluster, postgres
from bench.county import LINES_PER_PRESCRIPTION, BenchCounty, Prescriptions, write_county
from libs.events import utc_now
from libs.platform.auth import Role

SERVICES = ("staffing", "pharmacy", "finance", "reporting")
GATEWAY_SERVICES = ("staffing", "gateway")
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


def measure_scale(
    args: argparse.Namespace, counties: int, work: Path, full: bool
) -> dict[str, Any]:
    county = write_county(counties, work / f"county-{counties}")
    env = {
        "STAFFING_COUNTY_CONFIG": str(county.config),
        "STAFFING_LOAD_SEED_STAFF": "false",
        "PHARMACY_OPENING_STOCK": str(county.opening_stock),
    }
    result: dict[str, Any] = {
        "broker": args.broker,
        "counties": counties,
        "facilities": len(county.facilities),
    }
    _say(f"[{counties} counties] starting the services, {len(county.facilities)} facilities")
    with cluster(work / f"run-{counties}", SERVICES, env, broker=args.broker) as running:
        result["setup_s"] = round(_wait_until_stocked(running, county, 1800), 1)
        _say(f"[{counties} counties] {county.lots} opening lots booked in {result['setup_s']} s")
        phases = {"stocked": _peaks(running)}
        prescriptions = Prescriptions(county, PSEUDONYM_SECRET.encode(), seed=counties)
        pipeline.throughput(running, prescriptions, 300)  # warm caches, JIT-free but not cold
        result.update(_end_to_end(args, running, county, prescriptions, counties, full, phases))
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
        e2e = pipeline.throughput(running, prescriptions, args.prescriptions)
        figures = _e2e_figures(e2e)
        by_processes.setdefault(str(count), {}).update(figures)
        _say(f"[{counties} counties] end to end, {count} pharmacy: {figures}")
        phases[f"end_to_end_{count}"] = _peaks(running)
        if n == 0:
            result["e2e"] = figures
            if full:
                result.update(_raw_and_latency(args, running, prescriptions, e2e.per_s, counties))
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


def _raw_and_latency(
    args: argparse.Namespace,
    running: Cluster,
    prescriptions: Prescriptions,
    e2e_per_s: float,
    counties: int,
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
        lat = pipeline.latency(running, prescriptions, rate, args.latency_seconds)
        figures["latency"].append(
            {
                "offered_per_s": lat.offered_per_s,
                "prescriptions": lat.prescriptions,
                "p50_ms": round(lat.p50_s * 1000, 1),
                "p99_ms": round(lat.p99_s * 1000, 1),
                "max_ms": round(lat.max_s * 1000, 1),
                "p50_to_stock_ms": round(lat.p50_to_stock_s * 1000, 1),
                "p99_to_stock_ms": round(lat.p99_to_stock_s * 1000, 1),
            }
        )
        _say(f"[{counties} counties] latency: {figures['latency'][-1]}")
    return figures


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
        "STAFFING_COUNTY_CONFIG": str(county.config),
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


def _counts(text: str) -> list[int]:
    counts = [int(part) for part in text.split(",") if part.strip()]
    if not counts or counts != sorted(set(counts)) or counts[0] < 1:
        raise argparse.ArgumentTypeError("ascending whole numbers >= 1, e.g. 1,2")
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--broker", choices=BROKERS, default="tansu")
    parser.add_argument("--prescriptions", type=int, default=6000)
    parser.add_argument("--large", type=int, default=100, help="large scale; 0 skips")
    parser.add_argument(
        "--latency-rates",
        type=lambda text: [float(r) for r in text.split(",")],
        default=[25.0, 200.0],
        help="offered loads (prescriptions/s), comma-separated",
    )
    parser.add_argument("--latency-seconds", type=float, default=20.0)
    parser.add_argument("--http-seconds", type=float, default=10.0)
    parser.add_argument(
        "--pharmacy-processes",
        type=_counts,
        default=[1, 2],
        help="end to end with pharmacy as each of these many processes in its consumer group, "
        "one after the other in the same run (one-county scale; the large scale and the other "
        "measurements use the first), comma-separated, ascending",
    )
    parser.add_argument(
        "--only", choices=("gateway",), help="run this section alone (gateway: (f))"
    )
    parser.add_argument(
        "--gateway-messages", type=int, default=4000, help="(f): messages per way in"
    )
    parser.add_argument("--gateway-clients", type=int, default=4, help="(f): concurrent clients")
    parser.add_argument(
        "--gateway-facilities", type=int, default=4, help="(f): member systems (one a facility)"
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp, postgres():
        work = Path(tmp)
        if args.only is None:
            results.append(measure_scale(args, 1, work, full=True))
            if args.large:
                results.append(measure_scale(args, args.large, work, full=False))
        results.append(measure_gateway(args, work))
    report = json.dumps(results, indent=2, ensure_ascii=False)
    print(report)
    if args.json:
        args.json.write_text(report + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
