"""Composition root of the referral service."""

from __future__ import annotations

from dataclasses import dataclass

import structlog
from fastapi import FastAPI
from prometheus_client import Counter

from libs.directory.api import router as directory_router
from libs.events.envelope import utc_now
from libs.platform.settings import PlatformSettings
from libs.platform.worker import Periodic, ServiceProcess
from services.referral.adapters.metrics import ReferralCollector
from services.referral.adapters.schema import MIGRATIONS
from services.referral.api import actions as actions_api
from services.referral.api import capacity as capacity_api
from services.referral.api import referrals as referrals_api
from services.referral.config import ReferralConfig, load_config
from services.referral.handlers import HANDLERS
from services.referral.service_layer.sla import scan
from services.referral.settings import Settings

NAME = "referral"

log = structlog.get_logger("referral")


@dataclass
class ReferralProcess(ServiceProcess):
    """The service process, carrying the referral configuration to its admin app."""

    config: ReferralConfig | None = None

    def admin_app(self) -> FastAPI:
        app = super().admin_app()
        app.state.referral_config = self.config
        return app


def build(
    platform: PlatformSettings | None = None, settings: Settings | None = None
) -> ReferralProcess:
    platform = platform or PlatformSettings()
    settings = settings or Settings()
    config = load_config(platform, settings)
    process = ReferralProcess(
        name=NAME,
        title="Referral service",
        description="Two-way referrals (双向转诊) with green channels, capacity, SLA timers and "
        "follow-up plans; readable as FHIR R4 ServiceRequest + Task.",
        platform=platform,
        http_port=settings.http_port,
        database_url=settings.database_url_or_default(platform, NAME),
        migrations=MIGRATIONS,
        handlers=HANDLERS,
        routers=[
            referrals_api.router,
            actions_api.router,
            capacity_api.router,
            directory_router,
        ],
        config=config,
    )
    process.registry.register(ReferralCollector(process.database.sessions))
    scans = Counter(
        "referral_sla_scans",
        "Runs of the SLA job in this process.",
        registry=process.registry,
    )

    def sla_job() -> None:
        scan(process.unit_of_work(), config.sla, now=utc_now())
        scans.inc()

    process.periodic.append(Periodic("sla_scan", settings.sla_scan_interval_s, sla_job))

    def warn_development_secret(_: ServiceProcess) -> None:
        if config.development_secret:
            log.warning("PSEUDONYM_SECRET is unset: using the DEVELOPMENT pseudonym secret")

    process.on_start.append(warn_development_secret)
    return process
