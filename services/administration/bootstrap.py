"""Composition root of the administration service (行政一体化)."""

from __future__ import annotations

from functools import partial

import structlog
import yaml

from libs.events.history import read_to_the_end
from libs.events.topics import logical_topic
from libs.platform.service import ServiceDefinition
from libs.platform.settings import PlatformSettings
from libs.platform.worker import ServiceProcess
from services.administration.adapters.metrics import AppraisalCollector
from services.administration.adapters.schema import MIGRATIONS
from services.administration.api import appraisals as appraisals_api
from services.administration.api import organisation as organisation_api
from services.administration.api import reports as reports_api
from services.administration.domain.organisation import parse_county
from services.administration.domain.scorecard import parse_scorecard
from services.administration.handlers import HANDLERS
from services.administration.service_layer.handover import ORGANISATION_TOPICS, take_over
from services.administration.service_layer.organisation import sync_county
from services.administration.service_layer.unit_of_work import AdministrationUnitOfWork
from services.administration.settings import Settings

NAME = "administration"

log = structlog.get_logger("administration")


def compose(platform: PlatformSettings, settings: Settings) -> ServiceProcess:
    clock = platform.county_clock()
    scorecard = parse_scorecard(yaml.safe_load(settings.appraisal.read_text(encoding="utf-8")))

    def take_over_published(process: ServiceProcess) -> None:
        if not settings.take_over_published:
            return
        records = read_to_the_end(
            platform.kafka_bootstrap_servers,
            ORGANISATION_TOPICS,
            prefix=platform.kafka_topic_prefix,
            timeout_s=settings.handover_timeout_s,
            credentials=platform.kafka_credentials(),
            client_id="administration-handover",
        )
        taken = take_over(
            process.unit_of_work(),
            [
                (logical_topic(r.topic, platform.kafka_topic_prefix), r.key, r.value)
                for r in records
            ],
        )
        if taken is not None:
            log.info("organisation taken over", **taken.__dict__)

    def publish_county(process: ServiceProcess) -> None:
        document = yaml.safe_load(settings.county_config.read_text(encoding="utf-8"))
        sync_county(process.unit_of_work(), parse_county(document))

    return SERVICE.process(
        platform,
        settings,
        units_of_work=partial(AdministrationUnitOfWork, clock=clock, scorecard=scorecard),
        collectors=[lambda p: AppraisalCollector(p.database.sessions)],
        # What is already published first: the configuration then adds only what differs.
        on_start=[take_over_published, publish_county],
    )


SERVICE = ServiceDefinition(
    name=NAME,
    port=8108,
    title="Administration service",
    description="The management committee's service (行政一体化): the community's "
    "organisation (communities, member facilities, their changes), published for every "
    "other service, and the members' half-year appraisal (绩效考核) that finance pays by.",
    settings=Settings,
    migrations=MIGRATIONS,
    handlers=HANDLERS,
    routers=[organisation_api.router, appraisals_api.router, reports_api.router],
    compose=compose,
)
