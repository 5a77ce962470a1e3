"""The simulator's only I/O: the ingestion topics (kafka-python) and the admin HTTP APIs
(httpx), with tokens minted from the suite's signing keys and pseudonyms under the county
key, exactly as a hospital information system and the people at the desks would.

The HTTP side is here; the event feed (``simulator.his_feed``) and the probe that tells when
the suite has caught up (``simulator.settling``) have files of their own and are re-exported
from here, so that callers keep one place to take the simulator's I/O from."""

from __future__ import annotations

import os
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from libs.events.credentials import KafkaCredentials
from libs.events.pseudonym import pseudonymise
from libs.platform.auth import Role, TokenAuthority, load_signing_keys
from libs.platform.settings import PlatformSettings
from simulator.his_feed import EventSink
from simulator.settling import Settler, SuiteProbe

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

#: The suite's services and their default admin ports (as libs/launcher/config.py). The
#: gateway is where the member systems of infra/gateway/systems.yaml send their feed
#: (``simulator.gateway_feed``); without it every facility's feed goes onto Kafka.
SERVICES: dict[str, int] = {
    "pharmacy": 8101,
    "finance": 8102,
    "staffing": 8103,
    "referral": 8104,
    "reporting": 8105,
    "quality": 8106,
    "gateway": 8107,
    "administration": 8108,
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
