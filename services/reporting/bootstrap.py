"""Composition root of the reporting service."""

from __future__ import annotations

from functools import partial

from libs.directory.api import router as directory_router
from libs.platform.background import Periodic
from libs.platform.service import ServiceDefinition
from libs.platform.settings import PlatformSettings
from libs.platform.worker import ServiceProcess
from services.reporting.adapters.schema import MIGRATIONS
from services.reporting.api import indicators as indicators_api
from services.reporting.domain.rules import County
from services.reporting.handlers import HANDLERS
from services.reporting.indicators.members import MembersCollector
from services.reporting.metrics import IndicatorCollector
from services.reporting.service_layer.feeds import count_silences_to_now
from services.reporting.service_layer.unit_of_work import ReportingUnitOfWork
from services.reporting.settings import Settings

NAME = "reporting"


def county_of(platform: PlatformSettings, settings: Settings) -> County:
    """The county the service reports on: its unit id and the county's clock."""
    return County(settings.county_id, platform.county_clock())


def compose(platform: PlatformSettings, settings: Settings) -> ServiceProcess:
    county = county_of(platform, settings)

    def feed_silences() -> None:
        uow = process.unit_of_work()
        assert isinstance(uow, ReportingUnitOfWork)
        count_silences_to_now(uow)

    process = SERVICE.process(
        platform,
        settings,
        units_of_work=partial(ReportingUnitOfWork, county=county),
        collectors=[
            lambda p: MembersCollector(p.database.sessions),
            lambda p: IndicatorCollector(p.database.sessions, county),
        ],
        periodic=[Periodic("feed_silences", settings.feed_silence_interval_s, feed_silences)],
    )
    return process


SERVICE = ServiceDefinition(
    name=NAME,
    port=8105,
    title="Reporting service",
    description="Consumes every domain and computes the county's indicators.",
    settings=Settings,
    migrations=MIGRATIONS,
    handlers=HANDLERS,
    routers=[indicators_api.router, directory_router],
    compose=compose,
)
