"""Recording every mutating request in the audit trail, whatever its outcome."""

from __future__ import annotations

import time

import structlog
from anyio import to_thread
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from libs.events.envelope import utc_now
from libs.platform.audit.table import AuditEntry
from libs.platform.auth import Principal

__all__ = ["MUTATING_METHODS", "AuditMiddleware"]

log = structlog.get_logger("audit")

MUTATING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class AuditMiddleware:
    """Writes one audit row per mutating request after the response has been sent.

    The caller is whoever the authentication dependency verified (``request.state
    .principal``); a request refused before that (no or bad token, too large, rate limited)
    is recorded without a subject.
    """

    def __init__(self, app: ASGIApp, *, sessions: sessionmaker[Session]) -> None:
        self.app = app
        self.sessions = sessions

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
            entry = _entry(scope, status, started)
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


def _entry(scope: Scope, status: int, started: float) -> AuditEntry:
    principal = scope.get("state", {}).get("principal")
    route = getattr(scope.get("route"), "path", None) or "unmatched"
    headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", [])}
    client = scope.get("client")
    who = principal if isinstance(principal, Principal) else None
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
