"""Small pieces the admin API's ASGI middlewares share: a JSON error, a body read once."""

from __future__ import annotations

import json

from starlette.types import Message, Receive, Send

__all__ = ["replaying", "send_json", "send_json_error"]


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
