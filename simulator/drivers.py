"""The simulator's only I/O: the ingestion topics (kafka-python) and the admin HTTP APIs
(httpx), with tokens minted from the suite's signing keys and pseudonyms under the county
key, exactly as a hospital information system and the people at the desks would."""

from __future__ import annotations

import contextlib
import os
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import httpx

from libs.events import Payload, encode, new_event
from libs.events.codec import CONTENT_TYPE_HEADER
from libs.events.credentials import KafkaCredentials
from libs.events.pseudonym import pseudonymise
from libs.events.topics import physical_topic
from libs.platform.auth import Role, TokenAuthority, load_signing_keys
from libs.platform.exposition import samples
from libs.platform.settings import PlatformSettings

__all__ = [
    "SERVICES",
    "Api",
    "ApiError",
    "Endpoints",
    "EventSink",
    "OutcomeUnknown",
    "Settler",
    "SuiteProbe",
    "Tokens",
]

#: The suite's services and their default admin ports (as libs/launcher/config.py).
SERVICES: dict[str, int] = {
    "pharmacy": 8101,
    "finance": 8102,
    "staffing": 8103,
    "referral": 8104,
    "reporting": 8105,
}


@dataclass(frozen=True)
class Endpoints:
    """Where the suite is and the keys to talk to it."""

    urls: dict[str, str]
    bootstrap: str
    topic_prefix: str
    data_dir: Path
    auth_keys: str = ""
    issuer: str = "county-medical-community"
    pseudonym_secret: bytes = b""
    production: bool = False
    #: How long the feed's producer keeps trying one record before it resends it itself.
    delivery_timeout_s: float = 120.0
    #: Who the feed is to the broker: the hospital systems' principal (``his``) on a cluster
    #: with ACLs, which may write the ingestion topics only.
    kafka_credentials: KafkaCredentials = field(default_factory=KafkaCredentials)

    @classmethod
    def from_environment(cls, **overrides: Any) -> Endpoints:
        """From the environment the services read (``KAFKA_BOOTSTRAP_SERVERS``, ``DATA_DIR``,
        ``<SERVICE>_HTTP_PORT``...)."""
        settings = PlatformSettings()
        urls = {
            name: f"http://127.0.0.1:{int(os.environ.get(f'{name.upper()}_HTTP_PORT', port))}"
            for name, port in SERVICES.items()
        }
        values: dict[str, Any] = {
            "urls": urls,
            "bootstrap": settings.kafka_bootstrap_servers,
            "topic_prefix": settings.kafka_topic_prefix,
            "data_dir": settings.data_dir,
            "auth_keys": settings.auth_keys,
            "issuer": settings.auth_issuer,
            "pseudonym_secret": settings.pseudonym_key(),
            "production": settings.environment == "production",
            "kafka_credentials": settings.kafka_credentials(),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def pseudonym(self, national_id: str) -> str:
        secret = self.pseudonym_secret or PlatformSettings().pseudonym_key()
        return pseudonymise(national_id, secret)


class Tokens:
    """Tokens per actor (a role, a facility, a person), minted once and reused."""

    def __init__(self, endpoints: Endpoints, ttl: timedelta = timedelta(hours=2)) -> None:
        keys = load_signing_keys(
            endpoints.auth_keys, endpoints.data_dir, production=endpoints.production
        )
        self._authority = TokenAuthority(keys, endpoints.issuer)
        self._ttl = ttl
        self._minted: dict[tuple[Role, str | None, str], str] = {}

    def __call__(self, role: Role, facility: str | None = None, actor: str = "") -> str:
        key = (role, facility, actor)
        if key not in self._minted:
            who = re.sub(r"[^A-Za-z0-9._-]", "-", f"sim-{role.value}-{facility or 'all'}-{actor}")
            self._minted[key] = self._authority.mint(
                subject=who.strip("-"), role=role, facility_id=facility, ttl=self._ttl
            )
        return self._minted[key]


class ApiError(Exception):
    def __init__(self, response: httpx.Response) -> None:
        self.status = response.status_code
        try:
            body = response.json()
        except ValueError:
            body = {"error": "?", "message": response.text[:300]}
        self.body: dict[str, Any] = body if isinstance(body, dict) else {"error": str(body)}
        self.code = str(self.body.get("error", ""))
        super().__init__(
            f"{response.request.method} {response.request.url.path}: {self.status} "
            f"{self.code} {self.body.get('message', '')}"
        )


#: Methods whose repetition has the effect of one call (RFC 9110): resent after any failure.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
#: The service (or a proxy in front of it) says it did not do it: not ready, unavailable.
UNAVAILABLE = frozenset({502, 503, 504})


class OutcomeUnknown(Exception):
    """A non-idempotent request went out and the connection broke before its answer came
    back (the service died mid-request): it may or may not have taken effect, and no
    ``confirm`` was given to find out, so it is not sent again."""


class Api:
    """One admin API. Waits out rate limits (429 + Retry-After) and outages (a service
    restarting after a crash), without ever doubling an effect.

    What is resent, and why it is safe:

    - a request that never reached the service (connection refused or timed out while
      connecting) is resent whatever its method: the service did nothing;
    - 502/503/504 say the service did not do it (not ready, its database away): resent;
    - a GET/PUT (idempotent) whose connection broke after it was sent is resent;
    - a POST whose connection broke after it was sent (the process was killed between
      receiving it and answering) may have been committed. None of the suite's APIs takes a
      client-supplied idempotency key, so the caller passes ``confirm``: a read that returns
      the effect if it is there (a referral with this patient, a transfer already in the
      target state...) or ``None`` if not. Only when the effect is absent is the POST sent
      again. The state transitions (accept, ship, check-in...) would refuse a second
      application anyway (409), so for them ``confirm`` only turns that refusal into the
      success it is; for creations (a referral) it is what prevents a duplicate. Without
      ``confirm``, :class:`OutcomeUnknown` is raised rather than risk a double.
    - a 500 from a POST is not resent (an unexpected failure is a finding, not noise).
    """

    def __init__(
        self,
        base_url: str,
        tokens: Callable[[Role, str | None, str], str],
        timeout_s: float = 30.0,
        patience_s: float = 150.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url
        self._tokens = tokens
        self._client = httpx.Client(base_url=base_url, timeout=timeout_s, transport=transport)
        self._patience_s = patience_s
        #: What had to be waited out: refused connections, lost answers, answers confirmed
        #: by reading the state, unavailable services (for a chaos test to report).
        self.faults: Counter[str] = Counter()

    def close(self) -> None:
        self._client.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        role: Role,
        facility: str | None = None,
        actor: str = "",
        json: Any = None,
        params: dict[str, Any] | None = None,
        confirm: Callable[[], Any] | None = None,
    ) -> Any:
        headers = {"Authorization": f"Bearer {self._tokens(role, facility, actor)}"}
        deadline = time.monotonic() + self._patience_s
        idempotent = method.upper() in IDEMPOTENT_METHODS
        unknown = False  # a POST went out and its answer was lost
        attempt = 0
        response: httpx.Response | None = None
        while True:
            if unknown and confirm is not None and (done := confirm()) is not None:
                self.faults["confirmed"] += 1
                return done
            try:
                response = self._client.request(
                    method, path, json=json, params=params, headers=headers
                )
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout):
                self.faults["refused"] += 1  # never reached the service: safe to send again
            except httpx.TransportError:
                self.faults[f"lost:{method}"] += 1
                if not idempotent:
                    if confirm is None:
                        raise OutcomeUnknown(f"{method} {path}: the answer was lost") from None
                    unknown = True
            else:
                status = response.status_code
                if status == 429:
                    wait = float(response.headers.get("retry-after", "1") or 1)
                    time.sleep(min(wait, 10.0))
                    continue
                if status in UNAVAILABLE or (status >= 500 and idempotent):
                    self.faults[f"status:{status}"] += 1
                else:
                    if status >= 400:
                        error = ApiError(response)
                        # a refusal after a lost answer: our first attempt did it?
                        lost = unknown and confirm is not None and status == 409
                        if lost and confirm is not None and (done := confirm()) is not None:
                            self.faults["confirmed"] += 1
                            return done
                        raise error
                    return response.json() if response.content else None
            if time.monotonic() > deadline:
                if response is not None:
                    raise ApiError(response)
                raise TimeoutError(f"{method} {path}: {self.base_url} unreachable")
            time.sleep(min(2.0, 0.1 * 2**attempt))
            attempt += 1

    def get(self, path: str, *, role: Role = Role.COUNTY_ADMIN, **kwargs: Any) -> Any:
        return self.request("GET", path, role=role, **kwargs)

    def post(self, path: str, *, role: Role, **kwargs: Any) -> Any:
        return self.request("POST", path, role=role, **kwargs)

    def put(self, path: str, *, role: Role, **kwargs: Any) -> Any:
        return self.request("PUT", path, role=role, **kwargs)

    def all_items(self, path: str, *, role: Role = Role.COUNTY_ADMIN, **params: Any) -> list[Any]:
        """Every item of a paginated list."""
        items: list[Any] = []
        while True:
            page = self.get(path, role=role, params={**params, "limit": 500, "offset": len(items)})
            items += page["items"]
            if not page["items"] or len(items) >= page["total"]:
                return items

    def ready(self) -> bool:
        try:
            return self._client.get("/readyz", timeout=3).status_code == 200
        except httpx.HTTPError:
            return False

    def metrics(self) -> str:
        return self._client.get("/metrics", timeout=10).text


def _abandon(producer: Any) -> None:
    """Close a producer that may still hold sends it cannot deliver. kafka-python's close()
    flushes first and raises when that times out, before it reaches its own force-close; so
    force it, and mark it closed so that its finaliser does not try again."""
    from kafka.errors import KafkaError

    try:
        producer.close(timeout=1)
    except KafkaError:
        sender = getattr(producer, "_sender", None)
        if sender is not None:
            sender.force_close()
        producer._closed = True


class EventSink:
    """A hospital information system's feed: events onto the ingestion topics, keyed by
    facility, with the business time as the envelope time.

    It delivers as the interface engines in front of hospital systems do: it confirms its
    feed every ``CHECKPOINT_RECORDS`` messages (a checkpoint), and when a delivery fails it
    replays everything since the last checkpoint — the same bytes, so the same event ids —
    with a new connection, until all of it is acknowledged. An outage delays the feed but
    loses nothing of it; what the broker had already taken arrives twice, and the suite's
    consumers must notice."""

    CHECKPOINT_RECORDS = 20
    #: A replay waits this long after a failed round, so an outage is not hammered.
    RESEND_PAUSE_S = 1.0

    def __init__(self, endpoints: Endpoints) -> None:
        self._prefix = endpoints.topic_prefix
        self._endpoints = endpoints
        self._producer = self._new_producer()
        self.sent: dict[str, int] = {}
        self.resent = 0
        #: Everything sent since the last checkpoint: (its future or None, topic, key, value).
        self._unconfirmed: list[tuple[Any, str, bytes, bytes]] = []

    def _new_producer(self) -> Any:
        from kafka import KafkaProducer

        delivery_ms = int(self._endpoints.delivery_timeout_s * 1000)
        return KafkaProducer(
            bootstrap_servers=self._endpoints.bootstrap,
            acks="all",
            enable_idempotence=True,
            linger_ms=5,
            client_id="county-simulator",
            **self._endpoints.kafka_credentials.client_options(),
            delivery_timeout_ms=delivery_ms,
            request_timeout_ms=min(30_000, delivery_ms // 2),
            max_block_ms=min(60_000, delivery_ms),
        )

    def send(self, payload: Payload, *, at: datetime, facility_id: str) -> None:
        event = new_event(payload, source=f"/his/{facility_id}", time=at)
        self._send(physical_topic(event.topic, self._prefix), event.key.encode(), encode(event))
        self.sent[event.topic] = self.sent.get(event.topic, 0) + 1
        if len(self._unconfirmed) >= self.CHECKPOINT_RECORDS:
            self.flush()

    def _send(self, topic: str, key: bytes, value: bytes) -> None:
        from kafka.errors import KafkaError

        try:
            future = self._producer.send(topic, key=key, value=value, headers=[CONTENT_TYPE_HEADER])
        except KafkaError:  # e.g. no metadata within max_block_ms: the cluster is away
            future = None
        self._unconfirmed.append((future, topic, key, value))

    def flush(self) -> None:
        """A checkpoint: until everything sent since the last one is acknowledged, replaying
        all of it whenever some of it was not.

        Before replaying, the producer is replaced (as the outbox relay does): an idempotent
        producer whose send expired may refuse to go on with that partition."""
        from kafka.errors import KafkaTimeoutError

        patience = max(10.0, 2 * self._endpoints.delivery_timeout_s)
        while True:
            with contextlib.suppress(KafkaTimeoutError):
                self._producer.flush(timeout=patience)
            journal, self._unconfirmed = self._unconfirmed, []
            if all(f is not None and f.is_done and not f.failed() for f, *_ in journal):
                return
            self._replace_producer()
            time.sleep(self.RESEND_PAUSE_S)
            for _, topic, key, value in journal:
                self.resent += 1
                self._send(topic, key, value)

    def _replace_producer(self) -> None:
        old, self._producer = self._producer, self._new_producer()
        _abandon(old)

    def close(self) -> None:
        from kafka.errors import KafkaError

        self.flush()
        with contextlib.suppress(KafkaError):  # everything was acknowledged: nothing is lost
            self._producer.close(timeout=10)


#: Which services consume each ingestion topic (docs/events.md).
INGESTION_CONSUMERS = {
    "ingestion.visit": ("finance", "reporting"),
    "ingestion.prescription": ("pharmacy", "reporting"),
}


class Settler(Protocol):
    """Tells when the suite has caught up with what the simulator sent (the pharmacists'
    rounds wait for it, so what they see does not depend on how fast the suite was)."""

    def start(self) -> None: ...

    def settle(self, sent: dict[str, int], *, say: Callable[[str], None] = print) -> bool: ...


@dataclass
class SuiteProbe:
    """Tells when the suite has caught up with what was sent: every consumer of the
    ingestion topics has read as many records as the simulator produced, no outbox holds
    anything, and nothing moved for a moment."""

    apis: dict[str, Api]
    baseline: dict[tuple[str, str], float] = field(default_factory=dict)

    def consumed(self) -> tuple[dict[tuple[str, str], float], float, float]:
        """Ingestion records consumed per (service, topic); outbox pending; activity."""
        counts: dict[tuple[str, str], float] = {}
        pending = activity = 0.0
        for service, api in self.apis.items():
            try:
                text = api.metrics()
            except httpx.HTTPError:
                return counts, float("inf"), float("nan")
            for name, labels, value in samples(text):
                if name == f"{service}_events_consumed_total":
                    activity += value
                    topic = labels.get("topic", "")
                    for logical in INGESTION_CONSUMERS:
                        if topic.endswith(logical):
                            key = (service, logical)
                            counts[key] = counts.get(key, 0.0) + value
                elif name == f"{service}_outbox_pending":
                    pending += value
                elif name == f"{service}_events_published_total":
                    activity += value
        return counts, pending, activity

    def start(self) -> None:
        self.baseline = self.consumed()[0]

    def settle(
        self,
        sent: dict[str, int],
        *,
        timeout_s: float = 180.0,
        quiet_s: float = 1.0,
        say: Callable[[str], None] = print,
    ) -> bool:
        deadline = time.monotonic() + timeout_s
        last_activity = None
        quiet_since = time.monotonic()
        while time.monotonic() < deadline:
            counts, pending, activity = self.consumed()
            behind = {
                (service, topic): n
                - (counts.get((service, topic), 0) - self.baseline.get((service, topic), 0))
                for topic, n in sent.items()
                for service in INGESTION_CONSUMERS.get(topic, ())
                if service in self.apis
            }
            caught_up = all(v <= 0 for v in behind.values()) and pending == 0
            if activity != last_activity:
                last_activity, quiet_since = activity, time.monotonic()
            if caught_up and time.monotonic() - quiet_since >= quiet_s:
                return True
            time.sleep(0.25)
        say(f"the suite did not settle within {timeout_s:.0f}s; going on")
        return False
