"""The admin app every service serves: its routers plus health, metrics, auth and errors."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import metadata

from fastapi import APIRouter, FastAPI
from prometheus_client import CollectorRegistry
from sqlalchemy.orm import Session, sessionmaker

from libs.platform.audit.api import router as audit_router
from libs.platform.audit.middleware import AuditMiddleware
from libs.platform.auth import TokenAuthority
from libs.platform.http.docs import install_api_docs
from libs.platform.http.errors import install_error_handlers
from libs.platform.http.health import ReadinessCheck, install_health_endpoints
from libs.platform.http.idempotency import IdempotencyMiddleware
from libs.platform.http.limits import BodySizeLimitMiddleware, RateLimitMiddleware
from libs.platform.http.metrics import HttpMetricsMiddleware

__all__ = ["SUITE_VERSION", "HttpLimits", "create_admin_app"]

#: Every service is released with the suite: the installed project's version.
SUITE_VERSION = metadata.version("county-medical-community")


@dataclass(frozen=True)
class HttpLimits:
    max_body_bytes: int = 1_048_576
    rate_per_minute: int = 600
    rate_burst: int = 100
    exempt_prefixes: tuple[str, ...] = ()
    """Paths the service rate-limits by a caller of its own (the gateway's member systems)."""


def create_admin_app(
    *,
    service: str,
    title: str,
    description: str,
    routers: Iterable[APIRouter],
    checks: Mapping[str, ReadinessCheck],
    registry: CollectorRegistry,
    token_authority: TokenAuthority,
    sessions: sessionmaker[Session],
    limits: HttpLimits,
    version: str | None = None,
) -> FastAPI:
    """The service's routers plus health, metrics, audit trail, errors and input limits."""
    # The API page is served from the service itself, never from a CDN (http/docs.py).
    app = FastAPI(
        title=title,
        description=description,
        version=version or SUITE_VERSION,
        docs_url=None,
        redoc_url=None,
    )
    install_api_docs(app)
    app.state.token_authority = token_authority
    app.state.service = service
    install_error_handlers(app)
    install_health_endpoints(app, service=service, checks=checks, registry=registry)
    for router in routers:
        app.include_router(router)
    app.include_router(audit_router)
    # Added innermost first: the audit sees every outcome, including refusals by the limits.
    app.add_middleware(
        IdempotencyMiddleware, sessions=sessions, authority=token_authority
    )  # innermost: a replayed answer is still audited, limited and measured
    app.add_middleware(HttpMetricsMiddleware, namespace=service, registry=registry)
    app.add_middleware(
        RateLimitMiddleware,
        per_minute=limits.rate_per_minute,
        burst=limits.rate_burst,
        authority=token_authority,
        exempt_prefixes=limits.exempt_prefixes,
    )
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=limits.max_body_bytes)
    app.add_middleware(
        AuditMiddleware,
        sessions=sessions,
        authority=token_authority,
        namespace=service,
        registry=registry,
    )
    return app
