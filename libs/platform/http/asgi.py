"""Small pieces the admin API's ASGI middlewares share: the verified caller, a JSON error, a
body read once."""

from __future__ import annotations

import json

from starlette.types import Message, Receive, Scope, Send

from libs.platform.auth import InvalidToken, Principal, TokenAuthority

__all__ = ["bearer_caller", "replaying", "send_json", "send_json_error"]

_CALLER = "bearer_caller"


def bearer_caller(scope: Scope, authority: TokenAuthority) -> Principal | None:
    """Who the request's bearer token verifiably is; None without a valid one. Verified once
    per request and kept in its state: the rate limit, idempotency and audit all ask."""
    state = scope.setdefault("state", {})
    if _CALLER not in state:
        auth = dict(scope.get("headers", [])).get(b"authorization", b"")
        caller = None
        if auth.lower().startswith(b"bearer "):
            try:
                caller = authority.verify(auth[7:].strip().decode("latin-1"))
            except InvalidToken:
                caller = None
        state[_CALLER] = caller
    found: Principal | None = state[_CALLER]
    return found


async def send_json(
    send: Send,
    status: int,
    body: bytes,
    content_type: bytes = b"application/json",
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    """A whole response: start and body."""
    start = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    await send(
        {"type": "http.response.start", "status": status, "headers": start + (headers or [])}
    )
    await send({"type": "http.response.body", "body": body})


async def send_json_error(
    send: Send,
    status: int,
    code: str,
    message: str,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    """The suite's one error shape (libs/platform/http/errors.py), from a middleware."""
    body = json.dumps({"error": code, "message": message}).encode()
    await send_json(send, status, body, headers=headers)


def replaying(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives the application ``body`` (already read) and then what
    ``receive`` gives (a disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
