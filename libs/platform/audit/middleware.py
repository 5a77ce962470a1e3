"""Recording every mutating request in the audit trail, whatever its outcome."""

from __future__ import annotations

import time
from collections import OrderedDict

import structlog
from anyio import to_thread
from prometheus_client import CollectorRegistry, Counter
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from libs.events.envelope import utc_now
from libs.platform.audit.table import AuditEntry
from libs.platform.auth import Principal, TokenAuthority
from libs.platform.http.asgi import bearer_caller

__all__ = ["MUTATING_METHODS", "AuditMiddleware", "UnverifiedSampler"]

log = structlog.get_logger("audit")

MUTATING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: Refusals by the input limits, before the application: sampled like unverified requests.
REFUSED_BY_LIMITS = frozenset({413, 429})


class UnverifiedSampler:
    """Which requests of no verified caller get an audit row: the first of each client
    address and status in each ``window_s``. Anyone can send those for free, as fast as the
    rate limit lets them (a fresh junk token each time); one row per request would let them
    fill the append-only trail. The rest are counted, not recorded."""

    def __init__(self, window_s: float = 60.0, max_keys: int = 10_000) -> None:
        self.window_s = window_s
        self.max_keys = max_keys
        self._last: OrderedDict[tuple[str, int], float] = OrderedDict()

    def admit(self, client: str, status: int, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        key = (client, status)
        last = self._last.pop(key, None)
        if last is not None and now - last < self.window_s:
            self._last[key] = last
            return False
        self._last[key] = now
        while len(self._last) > self.max_keys:
            self._last.popitem(last=False)
        return True


class AuditMiddleware:
    """Writes one audit row per mutating request after the response has been sent.

    The caller is whoever the authentication dependency verified (``request.state
    .principal``), or, for a request refused before that (too large, rate limited), whoever
    its bearer token verifiably is. Requests refused by the limits, and those of no verified
    caller, are sampled per caller (or client address) and status
    (:class:`UnverifiedSampler`): they cost the sender nothing and must not fill the trail.
    Those left out are counted in ``<service>_audit_unrecorded_total``.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        sessions: sessionmaker[Session],
        authority: TokenAuthority | None = None,
        namespace: str = "service",
        registry: CollectorRegistry | None = None,
        sampler: UnverifiedSampler | None = None,
    ) -> None:
        self.app = app
        self.sessions = sessions
        self.authority = authority
        self.sampler = sampler or UnverifiedSampler()
        self.unrecorded = Counter(
            "audit_unrecorded",
            "Requests of no verified caller left out of the audit trail (sampled), by status",
            ["status"],
            namespace=namespace,
            registry=registry if registry is not None else CollectorRegistry(),
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in MUTATING_METHODS:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            await self._record(_entry(scope, status, started, self._caller(scope)))

    def _caller(self, scope: Scope) -> Principal | None:
        principal = scope.get("state", {}).get("principal")
        if isinstance(principal, Principal):
            return principal
        return bearer_caller(scope, self.authority) if self.authority is not None else None

    async def _record(self, entry: AuditEntry) -> None:
        if entry.subject is None or entry.status in REFUSED_BY_LIMITS:
            caller = entry.subject or (entry.client or "?").rsplit(":", 1)[0]
            if not self.sampler.admit(caller, entry.status):
                self.unrecorded.labels(str(entry.status)).inc()
                return
        try:
            await to_thread.run_sync(self._write, entry)
        except Exception as exc:  # the response is gone; say loudly that a row is missing
            log.error(
                "could not write the audit trail",
                error=repr(exc)[:300],
                method=entry.method,
                route=entry.route,
                status=entry.status,
            )

    def _write(self, entry: AuditEntry) -> None:
        with self.sessions() as session:
            session.add(entry)
            session.commit()


def _entry(scope: Scope, status: int, started: float, who: Principal | None) -> AuditEntry:
    route = getattr(scope.get("route"), "path", None) or "unmatched"
    headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", [])}
    client = scope.get("client")
    return AuditEntry(
        at=utc_now(),
        subject=who.subject if who else None,
        role=who.role.value if who else None,
        facility_id=who.facility_id if who else None,
        token_id=who.token_id if who else None,
        method=str(scope.get("method", "")),
        route=route[:200],
        path=str(scope.get("path", ""))[:500],
        status=status,
        client=f"{client[0]}:{client[1]}"[:100] if client else None,
        correlation_id=(headers.get("x-correlation-id") or "")[:64] or None,
        duration_ms=int((time.perf_counter() - started) * 1000),
    )
