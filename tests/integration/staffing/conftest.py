"""A staffing database with the seed county and staff, and a clock the test controls."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from typing import Any

import pytest
import yaml

from libs.events.catalogue.organisation import FacilityRegistered
from libs.events.envelope import CloudEvent
from libs.platform.clock import DEFAULT_ZONE, CountyClock
from libs.platform.settings import REPO_ROOT
from services.administration.domain.organisation import parse_county
from services.staffing.bootstrap import load_policy
from services.staffing.domain.policy import StaffingPolicy
from services.staffing.domain.registry import parse_staff_seed
from services.staffing.service_layer.registry import sync_staff_seed
from services.staffing.service_layer.unit_of_work import StaffingUnitOfWork
from tests.support.harness import HandlerHarness, event_of

RULES = REPO_ROOT / "infra" / "staffing" / "rules.yaml"
COUNTY = REPO_ROOT / "infra" / "county" / "seed-county.yaml"
STAFF = REPO_ROOT / "infra" / "staffing" / "seed-staff.yaml"

#: "Today" in these tests: Monday 1 March 2027, 09:00 in the county.
TODAY = date(2027, 3, 1)
THIS_WEEK = TODAY
NEXT_WEEK = TODAY + timedelta(weeks=1)

# Seed people (infra/staffing/seed-staff.yaml) the tests plan with.
CARDIOLOGY_CHIEF = "S-H01-001"  # 王建国, chief, cardiology, QS-H01
CARDIOLOGY_ASSOCIATE = "S-H01-002"  # 李秀英, associate chief
NEUROLOGY_ATTENDING = "S-H01-006"  # 杨帆, attending
TCM_CHIEF = "S-H02-001"  # 宋德明, chief, TCM hospital
CLINIC_GP = "S-T01-001"  # 许志明, general practitioner at 东湖镇卫生院


class Clock:
    """The county's "now", set by the test."""

    def __init__(self, day: date, at: time = time(9, 0)) -> None:
        self.set(day, at)

    def set(self, day: date, at: time = time(9, 0)) -> None:
        # The county is UTC+8 (Asia/Shanghai, no daylight saving since 1991).
        self.instant = datetime.combine(day, at, tzinfo=UTC) - timedelta(hours=8)

    def __call__(self) -> datetime:
        return self.instant

    def county(self) -> CountyClock:
        """The county's clock reading this "now" (it follows later ``set`` calls)."""
        return CountyClock.of(DEFAULT_ZONE, now=self)


class Staffing:
    """The staffing service's use cases on a real database, announcing into its outbox."""

    def __init__(self, harness: HandlerHarness, clock: Clock, policy: StaffingPolicy) -> None:
        self.harness = harness
        self.clock = clock
        self.policy = policy

    def uow(self) -> StaffingUnitOfWork:
        uow = self.harness.uow()
        assert isinstance(uow, StaffingUnitOfWork)
        return uow

    def published(self, type_name: str | None = None) -> list[CloudEvent[Any]]:
        return self.harness.published(type_name)

    def count(self, type_name: str) -> int:
        return len(self.published(type_name))

    def query(self, fn: Callable[[StaffingUnitOfWork], Any]) -> Any:
        with self.uow() as uow:
            return fn(uow)


def county_events() -> list[CloudEvent[Any]]:
    """The seed county's organisation as the administration announces it: the communities,
    then every facility registered (a full snapshot each)."""
    county = parse_county(yaml.safe_load(COUNTY.read_text("utf-8")))
    payloads = [
        *county.communities,
        *(FacilityRegistered(**f.model_dump()) for f in county.facilities),
    ]
    return [event_of(p) for p in payloads]


@pytest.fixture
def staffing(make_database: Callable[[str], str]) -> Iterator[Staffing]:
    policy = load_policy(RULES)
    clock = Clock(TODAY)
    harness = HandlerHarness(
        "staffing",
        make_database("staffing"),
        units_of_work=partial(StaffingUnitOfWork, policy=policy, clock=clock.county()),
    )
    world = Staffing(harness, clock, policy)
    result = harness.apply(*county_events())
    assert not result.dead_lettered, result.dead_lettered
    sync_staff_seed(world.uow(), parse_staff_seed(yaml.safe_load(STAFF.read_text("utf-8"))))
    yield world
    harness.close()
