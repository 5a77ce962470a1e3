"""Composition root of the gateway (信息系统一体化)."""

from __future__ import annotations

from functools import partial

import structlog

from libs.directory.api import router as directory_router
from libs.events.provenance import EDGE_PRODUCER
from libs.platform.service import ServiceDefinition
from libs.platform.settings import PlatformSettings
from libs.platform.worker import Periodic, ServiceProcess
from services.gateway.adapters.metrics import FeedCollector
from services.gateway.adapters.schema import MIGRATIONS
from services.gateway.api import feeds as feeds_api
from services.gateway.api import fhir as fhir_api
from services.gateway.api import messages as messages_api
from services.gateway.api import systems as systems_api
from services.gateway.config import load_config
from services.gateway.handlers import HANDLERS
from services.gateway.service_layer.feeds import scan
from services.gateway.service_layer.systems import register_configured
from services.gateway.service_layer.unit_of_work import GatewayUnitOfWork, gateway_uow
from services.gateway.settings import Settings

NAME = "gateway"

log = structlog.get_logger("gateway")

#: The member systems' endpoints: limited per system by the gateway, not per caller.
INGESTION_PATHS = ("/fhir", "/messages")


def compose(platform: PlatformSettings, settings: Settings) -> ServiceProcess:
    config = load_config(platform, settings)

    def register_systems(process: ServiceProcess) -> None:
        registered = register_configured(gateway_uow(process.unit_of_work()))
        log.info("member systems registered", systems=len(registered))
        if config.development_secret:
            log.warning("PSEUDONYM_SECRET is unset: using the DEVELOPMENT pseudonym secret")

    def feed_scan() -> None:
        silent = scan(gateway_uow(process.unit_of_work()))
        if silent:
            log.warning("feeds fell silent", systems=silent)

    process = SERVICE.process(
        platform,
        settings,
        units_of_work=partial(GatewayUnitOfWork, config=config),
        collectors=[lambda p: FeedCollector(p.database.sessions)],
        periodic=[Periodic("feed_scan", settings.feed_scan_interval_s, feed_scan)],
        on_start=[register_systems],
        own_rate_limits=INGESTION_PATHS,
    )
    return process


SERVICE = ServiceDefinition(
    name=NAME,
    port=8107,
    title="Gateway",
    description="Where members' HIS, LIS and PACS connect (信息系统一体化): FHIR R4 bundles and "
    "the catalogue's JSON, authenticated per system and scoped to its facility, pseudonymised, "
    "validated as every consumer will, published through the outbox; feed health.",
    settings=Settings,
    migrations=MIGRATIONS,
    handlers=HANDLERS,
    routers=[
        fhir_api.router,
        messages_api.router,
        feeds_api.router,
        systems_api.router,
        directory_router,
    ],
    compose=compose,
    publishes_for=(EDGE_PRODUCER,),
)
