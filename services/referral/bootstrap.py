"""Composition root of the referral service."""

from __future__ import annotations

from functools import partial

import structlog
from prometheus_client import CollectorRegistry, Counter

from libs.directory.api import router as directory_router
from libs.events.envelope import utc_now
from libs.platform.service import ServiceDefinition
from libs.platform.settings import PlatformSettings
from libs.platform.worker import Periodic, ServiceProcess
from services.referral.adapters.metrics import ReferralCollector
from services.referral.adapters.schema import MIGRATIONS
from services.referral.api import actions as actions_api
from services.referral.api import capacity as capacity_api
from services.referral.api import referrals as referrals_api
from services.referral.config import load_config
from services.referral.handlers import HANDLERS
from services.referral.service_layer.sla import scan
from services.referral.service_layer.unit_of_work import ReferralUnitOfWork
from services.referral.settings import Settings

NAME = "referral"

log = structlog.get_logger("referral")


def compose(platform: PlatformSettings, settings: Settings) -> ServiceProcess:
    config = load_config(platform, settings)
    registry = CollectorRegistry()
    scans = Counter("referral_sla_scans", "Runs of the SLA job in this process.", registry=registry)

    def sla_job() -> None:
        scan(process.unit_of_work(), config.sla, now=utc_now())
        scans.inc()

    def warn_development_secret(_: ServiceProcess) -> None:
        if config.development_secret:
            log.warning("PSEUDONYM_SECRET is unset: using the DEVELOPMENT pseudonym secret")

    process = SERVICE.process(
        platform,
        settings,
        units_of_work=partial(ReferralUnitOfWork, config=config),
        registry=registry,
        collectors=[lambda p: ReferralCollector(p.database.sessions)],
        periodic=[Periodic("sla_scan", settings.sla_scan_interval_s, sla_job)],
        on_start=[warn_development_secret],
    )
    return process


SERVICE = ServiceDefinition(
    name=NAME,
    port=8104,
    title="Referral service",
    description="Two-way referrals (双向转诊) with green channels, capacity, SLA timers and "
    "follow-up plans; readable as FHIR R4 ServiceRequest + Task.",
    settings=Settings,
    migrations=MIGRATIONS,
    handlers=HANDLERS,
    routers=[referrals_api.router, actions_api.router, capacity_api.router, directory_router],
    compose=compose,
)
