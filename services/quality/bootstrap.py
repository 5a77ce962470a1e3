"""Composition root of the quality service (医疗质量一体化)."""

from __future__ import annotations

from functools import partial

import structlog

from libs.directory.api import router as directory_router
from libs.platform.service import ServiceDefinition
from libs.platform.settings import PlatformSettings
from libs.platform.worker import Periodic, ServiceProcess
from services.quality.adapters.metrics import ReviewCollector
from services.quality.adapters.schema import MIGRATIONS
from services.quality.api import audits as audits_api
from services.quality.api import herbal_orders as herbal_orders_api
from services.quality.api import reviews as reviews_api
from services.quality.config import load_config
from services.quality.handlers import HANDLERS
from services.quality.service_layer.audit import draw_due
from services.quality.service_layer.policy import publish_policy
from services.quality.service_layer.shared_pharmacy import scan_overdue
from services.quality.service_layer.sla import scan
from services.quality.service_layer.unit_of_work import QualityUnitOfWork, quality_uow
from services.quality.settings import Settings

NAME = "quality"

log = structlog.get_logger("quality")


def compose(platform: PlatformSettings, settings: Settings) -> ServiceProcess:
    config = load_config(platform, settings)

    def announce_policy(process: ServiceProcess) -> None:
        if publish_policy(quality_uow(process.unit_of_work())):
            log.info("review policy published", before=config.rules.review_before_dispensing)

    def sla_scan() -> None:
        overdue = scan(quality_uow(process.unit_of_work()))
        if overdue:
            log.warning("held prescriptions past the review SLA", prescriptions=overdue)

    def audit_draw() -> None:
        drawn = draw_due(quality_uow(process.unit_of_work()))
        if drawn:
            log.info("last month's prescription audit drawn", facilities=drawn)

    def delivery_scan() -> None:
        late = scan_overdue(quality_uow(process.unit_of_work()))
        if late:
            log.warning("shared-pharmacy orders past the delivery SLA", orders=late)

    process = SERVICE.process(
        platform,
        settings,
        units_of_work=partial(QualityUnitOfWork, config=config),
        collectors=[lambda p: ReviewCollector(p.database.sessions)],
        periodic=[
            Periodic("review_sla", settings.sla_scan_interval_s, sla_scan),
            Periodic("herbal_delivery_sla", settings.sla_scan_interval_s, delivery_scan),
            Periodic("audit_draw", settings.audit_draw_interval_s, audit_draw),
        ],
        on_start=[announce_policy],
    )
    return process


SERVICE = ServiceDefinition(
    name=NAME,
    port=8106,
    title="Quality service",
    description="The community's review centre (审方中心): every prescription reviewed by the "
    "county's rules (dose, duplicates, interactions, contraindications, antibiotic grading), "
    "held ones decided by a pharmacist within the SLA; pharmacy dispenses only what it "
    "released where the county reviews before dispensing.",
    settings=Settings,
    migrations=MIGRATIONS,
    handlers=HANDLERS,
    routers=[reviews_api.router, herbal_orders_api.router, audits_api.router, directory_router],
    compose=compose,
)
