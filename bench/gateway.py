"""(f) Gateway ingestion: members' messages a second through services/gateway onto the
ingestion topics, against the same events sent straight onto Kafka.

A fact is a visit and the three-line prescription written in it (two messages), fresh every
time. Three ways in, by ``clients`` concurrent aiohttp clients (httpx costs too much CPU per
request here): ``POST /messages``, ``POST /messages/batch`` and FHIR batch Bundles on ``POST
/fhir``. Messages/s onto the topic = accepted ÷ (first request → drained: the relay has
published every accepted message, ``gateway_events_published_total`` of the ingestion topics,
and ``gateway_outbox_pending`` is 0). Beside them: the same events sent with kafka-python as
simulator/his_feed.py sends (acks=all, idempotent), and the gateway's pure steps timed here.
"""

from __future__ import annotations

import asyncio
import base64
import json
import random
import statistics
import time
import timeit
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import yaml
from kafka import KafkaProducer

import libs.events.catalogue  # noqa: F401  (registers the catalogue)
from bench.cluster import cpu_seconds, machine_ticks
from bench.county import BenchCounty, Facility
from libs.events import encode, new_event, utc_now
from libs.events.admission import admit_record
from libs.events.codec import CONTENT_TYPE_HEADER
from libs.events.provenance import EDGE_PRODUCER
from libs.events.pseudonym import pseudonymise
from libs.events.registry import registry
from libs.events.topics import physical_topic
from libs.platform.exposition import sample_total
from services.gateway.api.gate import SystemGate
from services.gateway.config import parse_systems
from services.gateway.domain.fhir_bundle import translate_bundle
from services.gateway.domain.fhir_profile import FhirProfile
from services.gateway.domain.messages import Message
from services.gateway.domain.preparation import prepare
from services.gateway.domain.systems import SystemRules
from simulator import fhir_bundles as fb
from simulator.sampling import resident_id
from tests.support.brokers import prefix_of, principal_of
from tests.support.services import ServiceHandle

VISIT, PRESCRIPTION = "ingestion.visit.recorded.v1", "ingestion.prescription.issued.v1"
TOPICS = ("ingestion.visit", "ingestion.prescription")
DRUGS = (("QSY-W001", "6.8000"), ("QSY-W011", "4.2000"), ("QSY-W024", "2.2000"))
FHIR_JSON = "application/fhir+json"
HIS_CHECKPOINT = 20  # simulator/his_feed.py: EventSink.CHECKPOINT_RECORDS


def systems_document(facilities: list[Facility]) -> dict[str, Any]:
    """A systems.yaml with one JSON HIS per facility, limits far above the benchmark's."""
    defaults = {"opening_hours": ["00:00-24:00"], "silent_after_minutes": 600,
                "requests_per_minute": 6_000_000, "burst": 100_000,
                "max_request_bytes": 16 * 1024 * 1024}  # fmt: skip
    systems = [{"system_id": f"{f.facility_id}-BENCH", "facility_id": f.facility_id,
                "kind": "his", "format": "json"} for f in facilities]  # fmt: skip
    return {"defaults": defaults, "systems": systems}


@dataclass(frozen=True)
class Fact:
    """A visit and its prescription: the catalogue's fields, the patient's national id."""

    facility: Facility
    visit: dict[str, Any]
    prescription: dict[str, Any]


class Facts:
    """Fresh facts: ids never used before (a run's own prefix, then a counter)."""

    def __init__(self, seed: int = 11) -> None:
        self._rng = random.Random(seed)
        self._run, self._n = uuid.uuid4().hex[:8].upper(), 0

    def take(self, count: int, facility: Facility) -> list[Fact]:
        return [self._next(facility) for _ in range(count)]

    def _next(self, facility: Facility) -> Fact:
        self._n += 1
        at, nid = utc_now() - timedelta(minutes=5), resident_id(self._rng)
        visit_id, where = f"GV-{self._run}-{self._n}", facility.facility_id
        packs = [self._rng.randint(1, 3) for _ in DRUGS]
        lines = [
            {"line_no": n, "drug_code": code, "quantity": q, "unit_price": price}
            for n, ((code, price), q) in enumerate(zip(DRUGS, packs, strict=True), 1)
        ]
        total = sum(Decimal(price) * q for (_, price), q in zip(DRUGS, packs, strict=True))
        visit = {
            "visit_id": visit_id, "facility_id": where, "patient_national_id": nid,
            "insurance_type": "urban_rural_resident", "visit_type": "outpatient",
            "diagnosis_codes": ["J06.9"], "total_amount": "35.00", "eligible_amount": "30.00",
            "occurred_at": at.isoformat(),
        }  # fmt: skip
        prescription = {
            "prescription_id": f"GRX-{self._run}-{self._n}", "visit_id": visit_id,
            "facility_id": where, "patient_national_id": nid, "category": "western",
            "lines": lines, "total_amount": f"{total:.2f}", "issued_at": at.isoformat(),
        }  # fmt: skip
        return Fact(facility, visit, prescription)


def json_messages(fact: Fact) -> list[dict[str, Any]]:
    return [
        {"message_id": f"M-{data[key]}", "type": kind, "data": data}
        for kind, key, data in (
            (VISIT, "visit_id", fact.visit),
            (PRESCRIPTION, "prescription_id", fact.prescription),
        )
    ]


def fhir_entries(fact: Fact) -> list[dict[str, Any]]:
    """The Patient, the Encounter and one MedicationRequest per line."""
    v, rx = fact.visit, fact.prescription
    patient = fb.patient_entry(v["patient_national_id"])
    subject, when = fb.reference(patient), datetime.fromisoformat(v["occurred_at"])
    keep = ("visit_id", "facility_id", "visit_type", "insurance_type", "total_amount",
            "eligible_amount", "diagnosis_codes")  # fmt: skip
    encounter = fb.visit_entry(subject=subject, occurred_at=when, **{k: v[k] for k in keep})
    lines = fb.prescription_entries(
        prescription_id=rx["prescription_id"], facility_id=rx["facility_id"], subject=subject,
        category=rx["category"], issued_at=when, lines=rx["lines"],
        encounter=fb.reference(encounter), total_amount=rx["total_amount"],
    )  # fmt: skip
    return [patient, encounter, *lines]


def direct_records(fact: Fact, secret: bytes, prefix: str) -> list[tuple[str, bytes, bytes]]:
    """(topic, key, value) of the visit's and the prescription's events as a HIS would
    publish them straight onto Kafka (pseudonymised and tiered by the sender)."""
    records = []
    for kind, sent in ((VISIT, fact.visit), (PRESCRIPTION, fact.prescription)):
        fields = {**sent, "facility_tier": fact.facility.tier}
        fields["patient_pseudonym"] = pseudonymise(fields.pop("patient_national_id"), secret)
        payload = registry.by_type(kind).payload.model_validate(fields)
        event = new_event(payload, source=f"/his/{fact.facility.facility_id}")
        records.append((physical_topic(event.topic, prefix), event.key.encode(), encode(event)))
    return records


@dataclass(frozen=True)
class Call:
    """One HTTP request a member system makes, its body already encoded."""

    path: str
    body: bytes
    headers: dict[str, str]
    messages: int


def basic(facility: Facility) -> dict[str, str]:
    system = f"{facility.facility_id}-BENCH"  # as systems_document names it
    token = f"{system}:DEVELOPMENT-{system}"
    return {"Authorization": "Basic " + base64.b64encode(token.encode()).decode()}


def calls(way: str, facts: Facts, sites: list[Facility], messages: int, per: int) -> list[Call]:
    """``messages`` messages the ``way`` given ("single", "batch", "fhir"): ``per`` messages a
    request (a batch's or bundle's), facilities in turn, two messages a fact."""
    per = 2 if way == "single" else per
    made: list[Call] = []
    for n in range(-(-messages // per)):
        facility = sites[n % len(sites)]
        made += _calls_for(way, facts.take(max(1, per // 2), facility), facility)
    return made


def _calls_for(way: str, chunk: list[Fact], facility: Facility) -> list[Call]:
    headers = {**basic(facility), "Content-Type": "application/json"}
    if way == "single":
        return [Call("/messages", json.dumps(m).encode(), headers, 1)
                for fact in chunk for m in json_messages(fact)]  # fmt: skip
    if way == "batch":
        body = {"messages": [m for fact in chunk for m in json_messages(fact)]}
        return [Call("/messages/batch", json.dumps(body).encode(), headers, 2 * len(chunk))]
    entries = [e for fact in chunk for e in fhir_entries(fact)]
    bundle = fb.bundle("batch", f"B-{chunk[0].visit['visit_id']}", entries)
    fhir_headers = {**headers, "Content-Type": FHIR_JSON}
    return [Call("/fhir", json.dumps(bundle).encode(), fhir_headers, 2 * len(chunk))]


def accepted_in(path: str, status: int, body: bytes) -> int:
    """How many messages an answer says were accepted."""
    if path == "/messages":
        return 1 if status == 202 else 0
    if path == "/messages/batch":
        return int(json.loads(body)["accepted"]) if status in (202, 207) else 0
    # FHIR: a 202 for each entry of a fact (a prescription's lines), its event id the ETag.
    entries = (json.loads(body).get("entry") or []) if status == 200 else []
    answers = [e.get("response") or {} for e in entries]
    return len({r.get("etag") for r in answers if str(r.get("status", "")).startswith("202")})


@dataclass
class Answered:
    seconds: float = 0.0
    accepted: int = 0
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)


async def _send_all(base: str, work: list[Call], clients: int) -> Answered:
    """``work`` sent by ``clients`` concurrent clients, each on its own kept-alive connection."""
    queue, done = iter(work), Answered()
    connector, timeout = aiohttp.TCPConnector(limit=clients), aiohttp.ClientTimeout(total=300)
    async with aiohttp.ClientSession(base, connector=connector, timeout=timeout) as session:

        async def client() -> None:
            for call in queue:
                sent = time.monotonic()
                async with session.post(call.path, data=call.body, headers=call.headers) as r:
                    body = await r.read()
                done.latencies.append(time.monotonic() - sent)
                done.statuses[r.status] += 1
                done.accepted += accepted_in(call.path, r.status, body)

        started = time.monotonic()
        await asyncio.gather(*(client() for _ in range(clients)))
        done.seconds = time.monotonic() - started
    return done


def published(gateway: ServiceHandle) -> tuple[int, int]:
    """(ingestion events the relay has published, outbox records pending), from /metrics."""
    text = gateway.metrics()
    sent = sum(sample_total(text, "gateway_events_published_total", topic=t) for t in TOPICS)
    return int(sent), int(sample_total(text, "gateway_outbox_pending"))


def _wait_drained(gateway: ServiceHandle, target: int, timeout_s: float = 600) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        sent, pending = published(gateway)
        if sent >= target and pending == 0:
            return
        time.sleep(0.1)
    raise TimeoutError(f"the gateway's outbox did not drain: {published(gateway)} of {target}")


def wait_for_organisation(
    gateway: ServiceHandle, facts: Facts, facilities: list[Facility], timeout_s: float = 180
) -> float:
    """Until the gateway accepts a visit from each facility (it has staffing's organisation);
    returns the seconds waited."""
    started = time.monotonic()
    for facility in facilities:
        while True:
            call = calls("single", facts, [facility], 1, 1)[0]
            answer = httpx.post(gateway.url + call.path, content=call.body, headers=call.headers)
            if answer.status_code == 202:
                break
            if time.monotonic() - started > timeout_s:
                raise TimeoutError(f"the gateway still refuses {facility}: {answer.text[:300]}")
            time.sleep(0.5)
    return time.monotonic() - started


def measure_way(gateway: ServiceHandle, work: list[Call], clients: int) -> dict[str, Any]:
    """Send ``work`` with ``clients`` clients; answered and drained figures."""
    before, _ = published(gateway)
    cpu, ticks = cpu_seconds(gateway.process.pid), machine_ticks()
    started = time.monotonic()
    done = asyncio.run(_send_all(gateway.url, work, clients))
    _wait_drained(gateway, before + done.accepted)
    drained = time.monotonic() - started
    cpu = cpu_seconds(gateway.process.pid) - cpu
    busy, total = (a - b for a, b in zip(machine_ticks(), ticks, strict=True))
    latencies = sorted(done.latencies)
    return {
        "requests": len(work), "messages": sum(c.messages for c in work),
        "accepted": done.accepted,
        "statuses": {str(k): v for k, v in sorted(done.statuses.items())},
        "answered_s": round(done.seconds, 2), "drained_s": round(drained, 2),
        "requests_per_s": round(len(work) / done.seconds, 1),
        "answered_per_s": round(done.accepted / done.seconds, 1),
        "per_s": round(done.accepted / drained, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p99_ms": round(latencies[int(0.99 * (len(latencies) - 1))] * 1000, 1),
        "gateway_cpu_ms_per_message": round(cpu * 1000 / max(1, done.accepted), 3),
        "gateway_cpu_ms_per_request": round(cpu * 1000 / len(work), 3),
        "machine_busy": round(busy / total, 3) if total else float("nan"),
    }  # fmt: skip


def direct_kafka(bootstrap: str, records: list[tuple[str, bytes, bytes]], checkpoint: int) -> float:
    """Messages/s sent with kafka-python as the HIS feed does, all acknowledged; confirmed
    every ``checkpoint`` sends (0: once, at the end)."""
    producer = KafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=5,
        **principal_of(bootstrap, EDGE_PRODUCER).client_options(),
    )  # fmt: skip
    for topic, key, value in {r[0]: r for r in records}.values():  # warm, as a running feed is
        producer.send(topic, key=key, value=value, headers=[CONTENT_TYPE_HEADER]).get(timeout=60)
    started = time.monotonic()
    for n, (topic, key, value) in enumerate(records, 1):
        producer.send(topic, key=key, value=value, headers=[CONTENT_TYPE_HEADER])
        if checkpoint and n % checkpoint == 0:
            producer.flush()
    producer.flush()
    elapsed = time.monotonic() - started
    producer.close()
    return len(records) / elapsed


def _timed_us(step: Callable[[], object], repeat: int) -> float:
    """The median of ``repeat`` timings of ``step``, in µs."""
    return statistics.median(timeit.repeat(step, number=1, repeat=repeat)) * 1e6


def in_process_costs(facts: list[Fact], rules: SystemRules, secret: bytes) -> dict[str, Any]:
    """The gateway's pure steps timed here, no I/O: one FHIR bundle of ``facts`` parsed and
    translated; a message prepared, encoded and admitted; a credential cache hit."""
    entries = [e for fact in facts for e in fhir_entries(fact)]
    raw = json.dumps(fb.bundle("batch", "B-COST", entries)).encode()
    profile = FhirProfile()
    loads = _timed_us(lambda: json.loads(raw), 20)
    translate = _timed_us(lambda: translate_bundle(json.loads(raw), profile), 20) - loads
    messages = [m for fact in facts for m in json_messages(fact)]
    tier = facts[0].facility.tier

    def validate() -> None:
        for m in messages:
            message = Message(m["message_id"], m["type"], m["data"], location="data")
            payload = prepare(message, rules, facility_tier=tier,
                              pseudonymise=lambda nid: pseudonymise(nid, secret))  # fmt: skip
            spec = registry.for_payload(payload)
            event = new_event(payload, source=f"/his/{rules.facility_id}")
            admit_record(encode(event), spec.key_of(payload).encode(), topic=spec.topic)

    gate, credential = SystemGate(), (rules.system_id, "DEVELOPMENT-" + rules.system_id)
    gate.recognise(credential, lambda s, k: rules)
    cached = _timed_us(lambda: gate.recognise(credential, lambda s, k: rules), 200)
    return {
        "bundle_facts": len(facts), "bundle_entries": len(entries),
        "bundle_kib": round(len(raw) / 1024, 1), "fhir_json_loads_ms": round(loads / 1000, 2),
        "fhir_translate_ms": round(translate / 1000, 2),
        "fhir_translate_us_per_entry": round(translate / len(entries), 1),
        "validate_encode_us_per_message": round(_timed_us(validate, 5) / len(messages), 1),
        "auth_cached_us": round(cached, 2),
    }  # fmt: skip


@dataclass(frozen=True)
class Plan:
    messages: int = 4000  # per way in
    clients: int = 4
    batch: int = 100  # messages per JSON batch
    bundle: int = 50  # messages per FHIR bundle (visits + prescriptions)
    facilities: int = 4

    def systems(self, county: BenchCounty, path: Path) -> Path:
        """A systems file for the gateway (``GATEWAY_SYSTEMS_CONFIG``)."""
        facilities = county.facilities[: self.facilities]
        path.write_text(yaml.safe_dump(systems_document(facilities), sort_keys=False))
        return path


def measure(gateway: ServiceHandle, bootstrap: str, county: BenchCounty, secret: bytes,
            plan: Plan, say: Callable[[str], None]) -> dict[str, Any]:  # fmt: skip
    """Every way in (after a warm-up of each), the direct sends and the in-process costs."""
    sites, facts, clients = county.facilities[: plan.facilities], Facts(), plan.clients
    waited = wait_for_organisation(gateway, facts, sites)
    say(f"[gateway] the organisation reached the gateway after {waited:.1f} s")
    per = {"single": 1, "batch": plan.batch, "fhir": plan.bundle}
    for way, size in per.items():  # connections, caches and the relay warm
        measure_way(gateway, calls(way, facts, sites, max(200, size * 2), size), clients)
    result: dict[str, Any] = {"plan": plan.__dict__}
    for way, size in per.items():
        result[way] = measure_way(gateway, calls(way, facts, sites, plan.messages, size), clients)
        say(f"[gateway] {way}: {result[way]}")
    facts_sent = facts.take(plan.messages // 2, sites[0])
    records = [r for f in facts_sent for r in direct_records(f, secret, prefix_of(bootstrap))]
    result["direct_kafka"] = {
        "messages": len(records),
        "kafka_python_per_s": round(direct_kafka(bootstrap, records, 0), 1),
        f"kafka_python_confirm_every_{HIS_CHECKPOINT}_per_s": round(
            direct_kafka(bootstrap, records, HIS_CHECKPOINT), 1),
    }  # fmt: skip
    say(f"[gateway] direct: {result['direct_kafka']}")
    rules = parse_systems(systems_document(sites))[0]
    sample = facts.take(plan.bundle // 2, sites[0])
    result["in_process"] = in_process_costs(sample, rules, secret)
    return result
