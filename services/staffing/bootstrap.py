"""Composition root of the staffing service."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import yaml
from prometheus_client import CollectorRegistry

from libs.platform.clock import CountyClock
from libs.platform.service import ServiceDefinition
from libs.platform.settings import PlatformSettings
from libs.platform.worker import ServiceProcess
from services.staffing.adapters.schema import MIGRATIONS
from services.staffing.api import attendance as attendance_api
from services.staffing.api import availability as availability_api
from services.staffing.api import organisation as organisation_api
from services.staffing.api import planning as planning_api
from services.staffing.api import public as public_api
from services.staffing.api import staff as staff_api
from services.staffing.api import timetable as timetable_api
from services.staffing.domain.organisation import parse_county
from services.staffing.domain.policy import StaffingPolicy, parse_policy
from services.staffing.domain.registry import parse_staff_seed
from services.staffing.handlers import HANDLERS
from services.staffing.metrics import StaffingCollector, refusals_counter
from services.staffing.service_layer.organisation import sync_county
from services.staffing.service_layer.registry import sync_staff_seed
from services.staffing.service_layer.unit_of_work import StaffingUnitOfWork
from services.staffing.settings import Settings

NAME = "staffing"


def load_policy(path: Path) -> StaffingPolicy:
    """The local staffing policy (``infra/staffing/rules.yaml`` by default)."""
    return parse_policy(yaml.safe_load(path.read_text(encoding="utf-8")))


def compose(
    platform: PlatformSettings, settings: Settings, clock: CountyClock | None = None
) -> ServiceProcess:
    """The staffing process; ``clock`` is the county's (``COUNTY_TIMEZONE``; tests fix now)."""
    clock = clock or platform.county_clock()
    policy = load_policy(settings.rules_config)
    registry = CollectorRegistry()

    def staffing_uow() -> StaffingUnitOfWork:
        uow = process.unit_of_work()
        assert isinstance(uow, StaffingUnitOfWork)
        return uow

    def publish_county(_: ServiceProcess) -> None:
        config = parse_county(yaml.safe_load(settings.county_config.read_text(encoding="utf-8")))
        sync_county(staffing_uow(), config)

    def load_staff(_: ServiceProcess) -> None:
        if settings.load_seed_staff:
            seed = parse_staff_seed(yaml.safe_load(settings.staff_config.read_text("utf-8")))
            sync_staff_seed(staffing_uow(), seed)

    process = SERVICE.process(
        platform,
        settings,
        units_of_work=partial(
            StaffingUnitOfWork, policy=policy, clock=clock, refusals=refusals_counter(registry)
        ),
        registry=registry,
        collectors=[lambda _: StaffingCollector(staffing_uow)],
        # The organisation first: the seed staff belong to its facilities.
        on_start=[publish_county, load_staff],
    )
    return process


SERVICE = ServiceDefinition(
    name=NAME,
    port=8103,
    title="Staffing service",
    description="Staff registry, expert rotations to member clinics, published timetables; "
    "owner of the community's organisation (facilities and departments).",
    settings=Settings,
    migrations=MIGRATIONS,
    handlers=HANDLERS,
    routers=[
        organisation_api.router,
        staff_api.router,
        planning_api.router,
        attendance_api.router,
        availability_api.router,
        timetable_api.router,
        public_api.router,
    ],
    compose=compose,
)
