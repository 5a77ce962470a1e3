"""Idempotent creates: the ``Idempotency-Key`` header, kept with the effects it guards.

A person whose browser timed out, or a system whose interface engine retries, sends the same
POST again. With an ``Idempotency-Key`` header (at most 200 characters, the caller's own),
the same key from the same caller on the same path:

- with the same body returns the first answer again (``Idempotent-Replayed: true``) and does
  nothing more;
- with another body is refused, 409 ``idempotency_key_reused``;
- while the first is still being applied, or if it was applied but its answer was lost in a
  crash, is refused, 409 ``idempotency_key_in_use`` (retry the same request later; never
  under a new key).

The key is written by the request's unit of work, in the transaction of the effects
(:data:`~libs.events.unit_of_work.COMMIT_HOOKS`): a request that changed nothing leaves no
key and may be sent again; a request whose effects committed can never be applied twice.
The answer is stored after the response, for the replay. A request without the header is
served as before: creates that have a business reference of their own check it themselves.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from anyio import to_thread
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from libs.events.envelope import utc_now
from libs.events.unit_of_work import COMMIT_HOOKS
from libs.platform.audit.table import IdempotencyRecord
from libs.platform.auth import TokenAuthority
from libs.platform.http.asgi import bearer_caller, replaying, send_json, send_json_error

__all__ = ["HEADER", "IdempotencyMiddleware", "KeyInUse"]

HEADER = b"idempotency-key"
MAX_KEY_LENGTH = 200
#: The largest answer kept for a replay; a larger one is replayed as its status alone.
MAX_KEPT_ANSWER = 256 * 1024


class KeyInUse(Exception):
    """Another request with this key committed first (raised from a unit of work's commit)."""


@dataclass
class _Pending:
    scope: str
    request_digest: str
    recorded: bool = False

    def record(self, session: Session) -> None:
        """The commit hook: the key goes into the transaction of the request's effects."""
        if self.recorded:
            return
        session.add(
            IdempotencyRecord(
                scope=self.scope, request_digest=self.request_digest, created_at=utc_now()
            )
        )
        try:
            session.flush()
        except IntegrityError:
            raise KeyInUse(self.scope) from None
        self.recorded = True


class IdempotencyMiddleware:
    """Applies the rules above to every POST that carries an ``Idempotency-Key``."""

    def __init__(
        self, app: ASGIApp, *, sessions: sessionmaker[Session], authority: TokenAuthority
    ) -> None:
        self.app = app
        self.sessions = sessions
        self.authority = authority

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope.get("headers", [])) if scope["type"] == "http" else {}
        key = headers.get(HEADER)
        caller = bearer_caller(scope, self.authority) if key is not None else None
        if scope.get("method") != "POST" or key is None or caller is None:
            await self.app(scope, receive, send)  # unauthenticated: refused downstream
            return
        if not 0 < len(key) <= MAX_KEY_LENGTH:
            await send_json_error(
                send, 400, "bad_idempotency_key", f"1 to {MAX_KEY_LENGTH} characters"
            )
            return
        body, replay = await _read_body(receive)
        path = str(scope.get("path", ""))
        pending = _Pending(
            scope=_digest(caller.subject, "POST", path, key.decode("latin-1")),
            request_digest=hashlib.sha256(body).hexdigest(),
        )
        stored = await to_thread.run_sync(self._stored, pending.scope)
        if stored is not None:
            await self._repeat(stored, pending, send)
            return
        status, answer = 500, _Answer()
        token = COMMIT_HOOKS.set((*COMMIT_HOOKS.get(), pending.record))
        try:
            await self.app(scope, replay, answer.capture(send))
            status = answer.status
        finally:
            COMMIT_HOOKS.reset(token)
        if pending.recorded:
            await to_thread.run_sync(self._keep, pending.scope, status, answer)

    async def _repeat(self, stored: IdempotencyRecord, pending: _Pending, send: Send) -> None:
        if stored.request_digest != pending.request_digest:
            message = "this Idempotency-Key was used for another request; use a new key"
            await send_json_error(send, 409, "idempotency_key_reused", message)
        elif stored.status is None:
            message = "a request with this Idempotency-Key is in progress or its answer was lost"
            await send_json_error(send, 409, "idempotency_key_in_use", message)
        else:
            await send_json(
                send,
                stored.status,
                stored.body or b"",
                (stored.content_type or "application/json").encode("latin-1"),
                headers=[(b"idempotent-replayed", b"true")],
            )

    def _stored(self, scope: str) -> IdempotencyRecord | None:
        with self.sessions() as session:
            return session.scalar(select(IdempotencyRecord).where(IdempotencyRecord.scope == scope))

    def _keep(self, scope: str, status: int, answer: _Answer) -> None:
        body = b"".join(answer.chunks)
        with self.sessions() as session:
            session.execute(
                update(IdempotencyRecord)
                .where(IdempotencyRecord.scope == scope)
                .values(
                    status=status,
                    content_type=answer.content_type[:100],
                    body=body if len(body) <= MAX_KEPT_ANSWER else b"",
                )
            )
            session.commit()


class _Answer:
    """The response as it is sent, kept for a replay."""

    def __init__(self) -> None:
        self.status = 500
        self.content_type = "application/json"
        self.chunks: list[bytes] = []

    def capture(self, send: Send) -> Send:
        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.status = message["status"]
                for name, value in message.get("headers", []):
                    if name.lower() == b"content-type":
                        self.content_type = value.decode("latin-1")
            elif message["type"] == "http.response.body":
                self.chunks.append(message.get("body", b""))
            await send(message)

        return sending


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()


async def _read_body(receive: Receive) -> tuple[bytes, Receive]:
    """The whole body (already bounded by the size limit), and a receive that replays it."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    return body, replaying(body, receive)
