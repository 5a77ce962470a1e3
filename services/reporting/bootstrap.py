"""Composition root of the reporting service."""

from __future__ import annotations

from libs.directory.api import router as directory_router
from libs.platform.settings import PlatformSettings
from libs.platform.worker import ServiceProcess
from services.reporting.adapters.schema import MIGRATIONS
from services.reporting.api import indicators as indicators_api
from services.reporting.domain.periods import CountyCalendar
from services.reporting.domain.rules import County
from services.reporting.handlers import HANDLERS
from services.reporting.indicators.members import MembersCollector
from services.reporting.metrics import IndicatorCollector
from services.reporting.service_layer.unit_of_work import ReportingUnitOfWork
from services.reporting.settings import Settings

NAME = "reporting"


def county_of(settings: Settings) -> County:
    """The county the service reports on, from its settings."""
    return County(settings.county_id, CountyCalendar(settings.tz))


def build(
    platform: PlatformSettings | None = None, settings: Settings | None = None
) -> ServiceProcess:
    platform = platform or PlatformSettings()
    settings = settings or Settings()
    county = county_of(settings)
    process = ServiceProcess(
        name=NAME,
        title="Reporting service",
        description="Consumes every domain and computes the county's indicators.",
        platform=platform,
        http_port=settings.http_port,
        database_url=settings.database_url_or_default(platform, NAME),
        migrations=MIGRATIONS,
        handlers=HANDLERS,
        routers=[indicators_api.router, directory_router],
        uow_class=ReportingUnitOfWork.bind(county),
    )
    process.registry.register(MembersCollector(process.database.sessions))
    process.registry.register(IndicatorCollector(process.database.sessions, county))
    return process
