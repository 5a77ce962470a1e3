"""Composition root of the staffing service."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

import yaml
from prometheus_client import CollectorRegistry

from libs.platform.clock import CountyClock
from libs.platform.service import ServiceDefinition
from libs.platform.settings import PlatformSettings
from libs.platform.worker import Periodic, ServiceProcess
from services.staffing.adapters.schema import MIGRATIONS
from services.staffing.api import attendance as attendance_api
from services.staffing.api import availability as availability_api
from services.staffing.api import planning as planning_api
from services.staffing.api import public as public_api
from services.staffing.api import staff as staff_api
from services.staffing.api import timetable as timetable_api
from services.staffing.domain.policy import StaffingPolicy, parse_policy
from services.staffing.domain.registry import StaffSeed, parse_staff_seed
from services.staffing.handlers import HANDLERS
from services.staffing.metrics import StaffingCollector, refusals_counter
from services.staffing.service_layer.registry import sync_staff_seed
from services.staffing.service_layer.unit_of_work import StaffingUnitOfWork
from services.staffing.settings import Settings

NAME = "staffing"


def load_policy(path: Path) -> StaffingPolicy:
    """The local staffing policy (``infra/staffing/rules.yaml`` by default)."""
    return parse_policy(yaml.safe_load(path.read_text(encoding="utf-8")))


class SeedStaff:
    """Loading the seed staff list, whose people belong to facilities staffing learns of
    from the administration's events.

    At start staffing may not have consumed the organisation yet (a fresh database, the
    administration starting beside it), so the start hook loads the people whose facility is
    known and a periodic retry loads the rest as their facilities arrive; once nobody waits
    the retry does nothing. Each load is idempotent and one unit of work, so a retry racing
    another process's load at worst fails on a duplicate and runs again. A facility that
    never arrives leaves its people waiting (logged) without holding up anyone else.
    """

    def __init__(self, uow: Callable[[], StaffingUnitOfWork], settings: Settings) -> None:
        self._uow = uow
        self._settings = settings
        self._seed: StaffSeed | None = None
        self.waiting = settings.load_seed_staff

    def load(self, _: ServiceProcess | None = None) -> None:
        if not self._settings.load_seed_staff:
            return
        if self._seed is None:
            doc = yaml.safe_load(self._settings.staff_config.read_text("utf-8"))
            self._seed = parse_staff_seed(doc)
        self.waiting = bool(sync_staff_seed(self._uow(), self._seed).waiting)

    def retry(self) -> None:
        if self.waiting:
            self.load()


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

    seed_staff = SeedStaff(staffing_uow, settings)
    process = SERVICE.process(
        platform,
        settings,
        units_of_work=partial(
            StaffingUnitOfWork, policy=policy, clock=clock, refusals=refusals_counter(registry)
        ),
        registry=registry,
        collectors=[lambda _: StaffingCollector(staffing_uow)],
        periodic=[Periodic("seed_staff", settings.seed_retry_interval_s, seed_staff.retry)],
        on_start=[seed_staff.load],
    )
    return process


SERVICE = ServiceDefinition(
    name=NAME,
    port=8103,
    title="Staffing service",
    description="Staff registry, expert rotations to member clinics, published timetables; "
    "keeps its copy of the community's organisation from the administration's events.",
    settings=Settings,
    migrations=MIGRATIONS,
    handlers=HANDLERS,
    routers=[
        staff_api.router,
        planning_api.router,
        attendance_api.router,
        availability_api.router,
        timetable_api.router,
        public_api.router,
    ],
    compose=compose,
)
