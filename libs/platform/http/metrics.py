"""HTTP request metrics, as pure ASGI middleware (cheap on the hot path)."""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["HttpMetricsMiddleware"]


class HttpMetricsMiddleware:
    def __init__(self, app: ASGIApp, *, namespace: str, registry: CollectorRegistry) -> None:
        self.app = app
        self.requests = Counter(
            "http_requests",
            "Admin HTTP requests by method, route and status.",
            ("method", "route", "status"),
            namespace=namespace,
            registry=registry,
        )
        self.latency = Histogram(
            "http_request_seconds",
            "Admin HTTP request latency by route.",
            ("method", "route"),
            namespace=namespace,
            registry=registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
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
            route = _route_template(scope)
            method = scope.get("method", "")
            self.requests.labels(method, route, str(status)).inc()
            self.latency.labels(method, route).observe(time.perf_counter() - started)


def _route_template(scope: Scope) -> str:
    # The matched route's template keeps label cardinality bounded (no ids in labels).
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str):
        return path
    if scope.get("path", "").startswith("/metrics"):
        return "/metrics"
    return "unmatched"
