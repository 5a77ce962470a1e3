"""Input limits every admin API enforces: request size, and a request rate per caller."""

from __future__ import annotations

import time
from collections import OrderedDict

from starlette.types import ASGIApp, Receive, Scope, Send

from libs.platform.auth import TokenAuthority
from libs.platform.http.asgi import bearer_caller, replaying, send_json_error

__all__ = ["BodySizeLimitMiddleware", "RateLimitMiddleware"]

MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class BodySizeLimitMiddleware:
    """413 for a body over ``max_bytes``, declared or streamed (then it is buffered, up to
    the limit, before the application sees any of it)."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        message = f"request bodies are limited to {self.max_bytes} bytes"
        headers = dict(scope.get("headers", []))
        declared = headers.get(b"content-length")
        if declared is not None:
            if not declared.isdigit() or int(declared) > self.max_bytes:
                await send_json_error(send, 413, "payload_too_large", message)
                return
            await self.app(scope, receive, send)
            return
        if headers.get(b"transfer-encoding") is None:
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            incoming = await receive()
            if incoming["type"] != "http.request":
                break
            chunks.append(incoming.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_bytes:
                await send_json_error(send, 413, "payload_too_large", message)
                return
            if not incoming.get("more_body", False):
                break
        await self.app(scope, replaying(b"".join(chunks), receive), send)


class RateLimitMiddleware:
    """A token bucket per caller for mutating requests: ``burst`` at once, refilled at
    ``per_minute``; 429 with Retry-After beyond.

    The caller is who the bearer token *verifiably* is (its subject: one person's tokens share
    a bucket), and the client address for a request without a valid token. Keyed on the raw
    token string instead, every fresh junk token would get a fresh bucket and never be limited.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        per_minute: int,
        burst: int,
        authority: TokenAuthority,
        max_keys: int = 10_000,
        exempt_prefixes: tuple[str, ...] = (),
    ):
        self.app = app
        self.exempt_prefixes = exempt_prefixes
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.authority = authority
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def _key(self, scope: Scope) -> str:
        caller = bearer_caller(scope, self.authority)
        if caller is not None:
            return f"p:{caller.subject}"
        client = scope.get("client")
        return f"c:{client[0] if client else '?'}"

    def take(self, key: str, now: float | None = None) -> float:
        """Spend one request of ``key``'s bucket; 0 if allowed, else seconds to wait."""
        now = time.monotonic() if now is None else now
        tokens, last = self._buckets.pop(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        wait = 0.0
        if tokens >= 1:
            tokens -= 1
        else:
            wait = (1 - tokens) / self.rate
        self._buckets[key] = (tokens, now)
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        return wait

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope.get("method") not in MUTATING
            or str(scope.get("path", "")).startswith(self.exempt_prefixes or ("\0",))
        ):
            await self.app(scope, receive, send)
            return
        wait = self.take(self._key(scope))
        if wait > 0:
            retry = str(max(1, int(wait + 0.999))).encode()
            await send_json_error(
                send,
                429,
                "rate_limited",
                "too many changes from this caller; slow down",
                headers=[(b"retry-after", retry)],
            )
            return
        await self.app(scope, receive, send)
