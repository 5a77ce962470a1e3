"""What the console's pages need besides their database, made once at start (bootstrap):
its templates and clock, where the services answer, and the sign-in rules."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta

import httpx

from libs.platform.auth import TokenAuthority
from libs.platform.clock import CountyClock
from libs.platform.service import definitions
from libs.platform.settings import PlatformSettings
from services.console.adapters.pages import Pages
from services.console.adapters.services import ServiceDirectory
from services.console.domain.sign_in import SessionTerms, SignInLimits
from services.console.settings import Settings

__all__ = ["ConsoleConfig", "load_config", "service_urls"]


@dataclass(frozen=True)
class ConsoleConfig:
    pages: Pages
    services: ServiceDirectory
    limits: SignInLimits
    sessions: SessionTerms
    secure_cookies: bool
    refresh_seconds: float

    @property
    def clock(self) -> CountyClock:
        return self.pages.clock


def service_urls(settings: Settings) -> dict[str, str]:
    """Each service's address: as configured, else on this machine at its own port (the
    port ``<NAME>_HTTP_PORT`` gives it, as ``make run`` and the tests set)."""
    urls = {}
    for name, definition in definitions().items():
        if name == "console":
            continue
        port = os.environ.get(f"{name.upper()}_HTTP_PORT", str(definition.port))
        urls[name] = settings.service_urls.get(name, f"http://127.0.0.1:{port}")
    return urls


def load_config(
    platform: PlatformSettings, settings: Settings, authority: TokenAuthority
) -> ConsoleConfig:
    production = platform.environment == "production"
    secure = settings.secure_cookies if settings.secure_cookies is not None else production
    directory = ServiceDirectory(
        urls=service_urls(settings),
        authority=authority,
        token_ttl=timedelta(minutes=settings.service_token_minutes),
        client=httpx.Client(timeout=httpx.Timeout(10.0, connect=3.0)),
    )
    return ConsoleConfig(
        pages=Pages(CountyClock.of(platform.county_timezone)),
        services=directory,
        limits=SignInLimits(
            per_account=settings.sign_in_failures_per_account,
            per_client=settings.sign_in_failures_per_client,
            window=timedelta(minutes=settings.sign_in_window_minutes),
        ),
        sessions=SessionTerms(
            idle=timedelta(minutes=settings.session_idle_minutes),
            absolute=timedelta(hours=settings.session_hours),
        ),
        secure_cookies=secure,
        refresh_seconds=settings.refresh_seconds,
    )
