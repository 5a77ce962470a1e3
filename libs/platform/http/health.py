"""Liveness, readiness and metrics endpoints every service serves.

- ``/healthz``: the process is alive and its event loop answers (and says its version).
- ``/readyz``: it can do its job: database reachable, broker reachable, consumers assigned
  and caught up with their state (table recovery); 503 with the failing checks otherwise.
- ``/metrics``: the service's Prometheus registry (prometheus-client's ASGI app).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from fastapi import APIRouter, FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry, make_asgi_app
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["ReadinessCheck", "install_health_endpoints"]

#: A check returns normally when ready and raises (with a short message) when not.
ReadinessCheck = Callable[[], None]


def install_health_endpoints(
    app: FastAPI,
    *,
    service: str,
    checks: Mapping[str, ReadinessCheck],
    registry: CollectorRegistry,
) -> None:
    router = APIRouter(tags=["health"])

    @router.get("/healthz", summary="The process is alive")
    async def healthz() -> dict[str, str]:
        return {"status": "alive", "service": service, "version": app.version}

    @router.get(
        "/readyz",
        summary="The service can do its work",
        responses={503: {"description": "Not ready; the failing checks are listed"}},
    )
    async def readyz() -> JSONResponse:
        results: dict[str, str] = {}
        ready = True
        for name, check in checks.items():
            try:
                await run_in_threadpool(check)
                results[name] = "ok"
            except Exception as exc:
                ready = False
                results[name] = str(exc)[:300] or type(exc).__name__
        body = {"status": "ready" if ready else "not_ready", "service": service, "checks": results}
        return JSONResponse(body, status_code=200 if ready else 503)

    app.include_router(router)
    # prometheus-client's ASGI app (content negotiation, gzip) on the exact path: a Mount
    # would answer /metrics with a redirect to /metrics/.
    app.router.routes.append(
        Route(
            "/metrics",
            _AsgiEndpoint(make_asgi_app(registry=registry)),
            methods=["GET"],
            include_in_schema=False,
            name="metrics",
        )
    )


class _AsgiEndpoint:
    """Makes Starlette treat a plain ASGI function as an app, not a request handler."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._app(scope, receive, send)
