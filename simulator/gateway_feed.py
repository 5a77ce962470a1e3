"""The member systems that connect through the gateway (``infra/gateway/systems.yaml``): their
facilities' visits, prescriptions, test orders and results go to it over HTTP — FHIR R4 batch
Bundles from a ``format: fhir`` HIS, ``POST /messages/batch`` from a ``format: json`` one — and
every other facility's straight onto the ingestion topics (``simulator.his_feed``).

A system's messages are buffered and sent in batches (``BATCH_MESSAGES``, and at every
checkpoint). Each message id is the fact's own name (``<type>:<facility>/<id>``), a bundle's
the digest of the facts it holds, so a batch sent again — after a lost answer, a 5xx, a 429 —
or by a rerun of the same plan carries the same ids, and the gateway publishes nothing twice.
A refusal is never retried: it is counted and its reasons are written into the run's
problems. The patient goes to the gateway as the resident identity number, never as the
pseudonym (the gateway computes it with the county key).
"""

from __future__ import annotations

import base64
import os
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import yaml

from libs.events import Payload
from libs.events.registry import registry
from libs.platform.settings import REPO_ROOT
from simulator.his_feed import EventSink
from simulator.member_messages import Pending, fhir_batch, json_message, message_id_of
from simulator.run_result import RunResult

if TYPE_CHECKING:
    from simulator.drivers import Endpoints

__all__ = [
    "FeedRouter",
    "GatewaySink",
    "Member",
    "Pending",
    "fhir_batch",
    "json_message",
    "load_members",
    "message_id_of",
    "open_feed",
]

SYSTEMS_YAML = REPO_ROOT / "infra" / "gateway" / "systems.yaml"
FHIR_JSON = "application/fhir+json"
#: An outcome of one message: (HTTP status, replayed, the reasons of a refusal).
Outcome = tuple[int, bool, str]


@dataclass(frozen=True)
class Member:
    """A member system feeding one facility through the gateway."""

    system_id: str
    facility_id: str
    format: str  # fhir | json
    secret: str

    def headers(self) -> dict[str, str]:
        token = base64.b64encode(f"{self.system_id}:{self.secret}".encode()).decode()
        return {"Authorization": f"Basic {token}"}


def load_members(path: Path | None = None, *, production: bool = False) -> dict[str, Member]:
    """The hospital information systems (``kind: his``) of ``systems.yaml`` by facility, with
    their development secret (none in production: those facilities stay on Kafka)."""
    if production:
        return {}
    where = path or Path(os.environ.get("GATEWAY_SYSTEMS_CONFIG") or SYSTEMS_YAML)
    document = yaml.safe_load(where.read_text(encoding="utf-8")) or {}
    members = {}
    for entry in document.get("systems") or []:
        if entry.get("kind") == "his" and entry.get("active", True):
            system_id = str(entry["system_id"])
            members[str(entry["facility_id"])] = Member(
                system_id,
                str(entry["facility_id"]),
                str(entry["format"]),
                "DEVELOPMENT-" + system_id,
            )
    return members


class GatewaySink:
    """The feeds of the member systems: ``send`` buffers a facility's messages, and each
    batch is posted until the gateway answered it, with the same message ids every time."""

    BATCH_MESSAGES = 50
    #: How long one batch is retried (connection errors, 5xx, 429) before it is given up
    #: (every message of it then a problem of the run, never dropped silently).
    PATIENCE_S = 150.0
    MAX_WAIT_S = 30.0

    def __init__(
        self,
        client: httpx.Client,
        members: dict[str, Member],
        result: RunResult,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._client = client
        self.members = members
        self._result = result
        self._sleep = sleep
        self._buffers: dict[str, list[Pending]] = {}
        #: Records the suite's consumers will read because of this sink, by topic.
        self.sent: dict[str, int] = {}
        self.faults: Counter[str] = Counter()

    def send(self, payload: Payload, *, at: datetime, facility_id: str, national_id: str) -> None:
        topic = registry.for_payload(payload).topic
        buffer = self._buffers.setdefault(facility_id, [])
        buffer.append(Pending(message_id_of(payload), topic, payload, national_id))
        if len(buffer) >= self.BATCH_MESSAGES:
            self._deliver(facility_id)

    def flush(self) -> None:
        """A checkpoint: every buffered message answered by the gateway."""
        for facility_id in list(self._buffers):
            self._deliver(facility_id)

    def close(self) -> None:
        self.flush()
        self._client.close()

    def _deliver(self, facility_id: str) -> None:
        items = self._buffers.pop(facility_id, [])
        if not items:
            return
        member = self.members[facility_id]
        if member.format == "fhir":
            document, firsts = fhir_batch(facility_id, items)
            headers = {**member.headers(), "Content-Type": FHIR_JSON}
            response, attempts = self._post("/fhir", document, headers)
            outcomes = _fhir_outcomes(response, firsts)
        else:
            body = {"messages": [json_message(item) for item in items]}
            response, attempts = self._post("/messages/batch", body, member.headers())
            outcomes = _json_outcomes(response, len(items))
        replay = response is not None and response.headers.get("idempotent-replayed") == "true"
        for item, (status, replayed, reason) in zip(items, outcomes, strict=True):
            # a replay answers an earlier attempt of ours (counted now) or an earlier run's
            earlier_run = (replayed or replay) and attempts == 1
            self._record(item, facility_id, (status, earlier_run, reason))

    def _post(
        self, path: str, body: dict[str, Any], headers: dict[str, str]
    ) -> tuple[httpx.Response | None, int]:
        """The gateway's answer (``None`` if it never came within the patience) and the
        number of attempts. Only what the gateway did not decide on is sent again."""
        deadline = time.monotonic() + self.PATIENCE_S
        attempt = 0
        while True:
            attempt += 1
            wait = min(2.0, 0.1 * 2**attempt)
            try:
                response = self._client.post(path, json=body, headers=headers)
            except httpx.TransportError as exc:
                self.faults[f"gateway:{type(exc).__name__}"] += 1
            else:
                status = response.status_code
                if status != 429 and status < 500:
                    return response, attempt
                self.faults[f"gateway:status:{status}"] += 1
                if status == 429:
                    wait = _retry_after(response, self.MAX_WAIT_S)
            if time.monotonic() + wait > deadline:
                return None, attempt
            self._sleep(wait)

    def _record(self, item: Pending, facility_id: str, outcome: Outcome) -> None:
        status, earlier_run, reason = outcome
        if 200 <= status < 300:
            if earlier_run:  # published by an earlier run: nothing new to consume
                self._result.counts["gateway:replayed"] += 1
                return
            self._result.counts["gateway:accepted"] += 1
            self.sent[item.topic] = self.sent.get(item.topic, 0) + 1
            return
        self._result.counts["gateway:refused"] += 1
        self._result.problems.append(
            f"gateway refused {item.message_id} from {facility_id}: {status} {reason}"
        )


def _retry_after(response: httpx.Response, cap: float) -> float:
    try:
        return min(cap, max(0.0, float(response.headers.get("retry-after", "1"))))
    except ValueError:
        return 1.0


def _failure(response: httpx.Response | None) -> str:
    if response is None:
        return "no answer: the gateway was unreachable or overloaded past the patience"
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict) and body.get("resourceType") == "OperationOutcome":
        return _diagnostics(body)
    if isinstance(body, dict):
        return f"{body.get('error', '')} {body.get('message', '')}".strip()
    return str(body)[:200]


def _diagnostics(outcome: dict[str, Any]) -> str:
    issues = outcome.get("issue") or []
    return "; ".join(
        f"{i.get('diagnostics', '')} ({', '.join(i.get('expression') or [])})" for i in issues[:5]
    )


def _json_outcomes(response: httpx.Response | None, count: int) -> list[Outcome]:
    if response is None or response.status_code not in (202, 207):
        status = 0 if response is None else response.status_code
        return [(status, False, _failure(response))] * count
    results = response.json()["results"]
    return [
        (
            r["status"],
            bool(r.get("replayed")),
            "; ".join(
                f"{p['code']} {p['message']} ({p.get('location')})" for p in r.get("problems") or []
            )
            or str(r.get("error")),
        )
        for r in results
    ]


def _fhir_outcomes(response: httpx.Response | None, firsts: list[int]) -> list[Outcome]:
    if response is None or response.status_code != 200:
        status = 0 if response is None else response.status_code
        return [(status, False, _failure(response))] * len(firsts)
    entries = response.json()["entry"]
    return [_entry_outcome(entries[index]["response"]) for index in firsts]


def _entry_outcome(answer: dict[str, Any]) -> Outcome:
    status = int(str(answer["status"]).split()[0])
    outcome = answer.get("outcome") or {}
    replayed = status < 300 and bool(outcome.get("issue"))
    return status, replayed, "" if status < 300 else _diagnostics(outcome)


class FeedRouter:
    """The simulator's feed: each facility to the gateway if a member system feeds it
    through the gateway, else onto the ingestion topics; the two count as one."""

    def __init__(self, kafka: EventSink, gateway: GatewaySink | None = None) -> None:
        self.kafka = kafka
        self.gateway = gateway

    @property
    def sent(self) -> dict[str, int]:
        gateway = self.gateway.sent if self.gateway is not None else {}
        return dict(Counter(self.kafka.sent) + Counter(gateway))

    @property
    def faults(self) -> Counter[str]:
        faults = Counter(self.gateway.faults) if self.gateway is not None else Counter()
        if self.kafka.resent:
            faults["his:resent"] += self.kafka.resent
        return faults

    def send(self, payload: Payload, *, at: datetime, facility_id: str, national_id: str) -> None:
        if self.gateway is not None and facility_id in self.gateway.members:
            self.gateway.send(payload, at=at, facility_id=facility_id, national_id=national_id)
        else:
            self.kafka.send(payload, at=at, facility_id=facility_id)

    def flush(self) -> None:
        if self.gateway is not None:
            self.gateway.flush()
        self.kafka.flush()

    def close(self) -> None:
        try:
            if self.gateway is not None:
                self.gateway.close()
        finally:
            self.kafka.close()


def open_feed(
    endpoints: Endpoints,
    result: RunResult,
    say: Callable[[str], None],
    *,
    kafka: Callable[[Endpoints], EventSink] = EventSink,
    client: httpx.Client | None = None,
) -> FeedRouter:
    """The feed for a run: through the gateway for its member systems when the gateway is
    one of the suite's services, else (said once) everything onto Kafka."""
    url = endpoints.urls.get("gateway")
    members = load_members(production=endpoints.production)
    if url is None or not members:
        why = "is not running" if url is None else "has no development secrets in production"
        say(f"the gateway {why}: every facility's feed goes straight onto Kafka")
        return FeedRouter(kafka(endpoints))
    say(f"through the gateway: {_listed(members.values())}; every other facility onto Kafka")
    http = client or httpx.Client(base_url=url, timeout=30.0)
    return FeedRouter(kafka(endpoints), GatewaySink(http, members, result))


def _listed(members: Iterable[Member]) -> str:
    return ", ".join(f"{m.facility_id} ({m.format})" for m in members)
