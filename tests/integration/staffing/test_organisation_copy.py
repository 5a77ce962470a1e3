"""Staffing keeps its copy of the organisation from the administration's events, and loads
the seed staff once their facilities have arrived."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import yaml
from sqlalchemy import select

from libs.events.catalogue.organisation import (
    Department,
    FacilityClosed,
    FacilityRegistered,
    FacilityUpdated,
)
from libs.events.catalogue.values import FacilityTier, FacilityType
from libs.platform.migrations import upgrade
from libs.platform.settings import PlatformSettings
from services.staffing.adapters.schema import Community, Facility, StaffMember
from services.staffing.bootstrap import compose, load_policy
from services.staffing.domain.registry import parse_staff_seed
from services.staffing.service_layer.registry import sync_staff_seed
from services.staffing.service_layer.unit_of_work import StaffingUnitOfWork
from services.staffing.settings import Settings
from tests.integration.staffing.conftest import (
    RULES,
    STAFF,
    TODAY,
    Clock,
    Staffing,
    county_events,
)
from tests.support.apps import holding_the_county
from tests.support.harness import HandlerHarness, event_of

#: When the administration announced the new clinic (in the past: a consumer refuses future
#: events; the tests' county clock plays no part in an envelope's time).
NOON = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)

NEW_CLINIC = FacilityRegistered(
    facility_id="QS-V99",
    name="新河村卫生室",
    community_id="QS-MC1",
    county_code="QS",
    tier=FacilityTier.PRIMARY,
    facility_type=FacilityType.VILLAGE_CLINIC,
    parent_facility_id="QS-T01",
    opening_hours=["08:00-12:00", "14:00-17:30"],  # not staffing's concern: ignored
)


def facility(staffing: Staffing, facility_id: str) -> Any:
    """A facility row's columns, read while its session is open."""

    def read(uow: StaffingUnitOfWork) -> SimpleNamespace:
        row = uow.session.get_one(Facility, facility_id)
        return SimpleNamespace(**{c.key: getattr(row, c.key) for c in Facility.__table__.columns})

    return staffing.query(read)


def test_a_facility_registered_updated_and_closed_reaches_the_copy(staffing: Staffing) -> None:
    result = staffing.harness.apply(event_of(NEW_CLINIC, time=NOON))
    assert result.applied and not result.dead_lettered
    row = facility(staffing, "QS-V99")
    assert (row.name, row.facility_type, row.active) == ("新河村卫生室", "village_clinic", True)
    assert row.parent_facility_id == "QS-T01"

    renamed = FacilityUpdated(
        **NEW_CLINIC.model_copy(update={"name": "新河村卫生服务站"}).model_dump(),
    ).model_copy(update={"departments": [Department(department_id="QS-V99-GP", name="全科")]})
    staffing.harness.apply(event_of(renamed, time=NOON + timedelta(hours=1)))
    row = facility(staffing, "QS-V99")
    assert row.name == "新河村卫生服务站"
    assert row.departments == [{"department_id": "QS-V99-GP", "name": "全科", "specialty": None}]

    closed = FacilityClosed(
        facility_id="QS-V99",
        closed_on=date(2027, 3, 31),
        reason="merged",
        closed_at=NOON + timedelta(hours=2),
        merged_into_facility_id="QS-T01",
    )
    staffing.harness.apply(event_of(closed, time=NOON + timedelta(hours=2)))
    row = facility(staffing, "QS-V99")
    assert (row.active, row.closed_on, row.name) == (False, date(2027, 3, 31), "新河村卫生服务站")
    assert not staffing.harness.dead_letters()


def test_an_older_snapshot_never_overwrites_a_newer_one(staffing: Staffing) -> None:
    staffing.harness.apply(event_of(NEW_CLINIC, time=NOON))
    newer = FacilityUpdated(**NEW_CLINIC.model_copy(update={"name": "新版名称"}).model_dump())
    older = FacilityUpdated(**NEW_CLINIC.model_copy(update={"name": "旧版名称"}).model_dump())
    staffing.harness.apply(event_of(newer, time=NOON + timedelta(hours=2)))
    staffing.harness.apply(event_of(older, time=NOON + timedelta(hours=1)))  # late
    assert facility(staffing, "QS-V99").name == "新版名称"

    # nor does an older closure, nor a replayed registration after a closure
    stale_close = FacilityClosed(
        facility_id="QS-V99", closed_on=date(2027, 3, 1), reason="left", closed_at=NOON
    )
    staffing.harness.apply(event_of(stale_close, time=NOON + timedelta(minutes=30)))
    assert facility(staffing, "QS-V99").active
    close = stale_close.model_copy(update={"closed_at": NOON + timedelta(hours=3)})
    staffing.harness.apply(event_of(close, time=NOON + timedelta(hours=3)))
    staffing.harness.apply(event_of(NEW_CLINIC, time=NOON))  # redelivered registration
    row = facility(staffing, "QS-V99")
    assert (row.active, row.name) == (False, "新版名称")


def test_the_seed_county_arrives_through_the_handlers(staffing: Staffing) -> None:
    communities = staffing.query(
        lambda uow: set(uow.session.scalars(select(Community.community_id)))
    )
    facilities = staffing.query(
        lambda uow: uow.session.execute(select(Facility.facility_id, Facility.active)).all()
    )
    assert communities == {"QS-MC1", "QS-MC2"}
    expected = [e for e in county_events() if e.type == "organisation.facility.registered.v1"]
    assert len(facilities) == len(expected) and all(active for _, active in facilities)
    assert not staffing.published("organisation.facility.registered.v1")  # never republished


def test_seed_staff_wait_for_their_facilities(make_database: Callable[[str], str]) -> None:
    units = partial(StaffingUnitOfWork, policy=load_policy(RULES), clock=Clock(TODAY).county())
    harness = HandlerHarness("staffing", make_database("staffing"), units_of_work=units)
    world = Staffing(harness, Clock(TODAY), load_policy(RULES))
    seed = parse_staff_seed(yaml.safe_load(STAFF.read_text("utf-8")))
    load = sync_staff_seed(world.uow(), seed)
    assert load.announced == [] and len(load.waiting) == len(seed.staff) + len(seed.positions)
    harness.apply(*county_events())
    load = sync_staff_seed(world.uow(), seed)
    assert len(load.announced) == len(seed.staff) and load.waiting == []
    harness.close()


def test_the_service_starts_before_the_organisation_and_loads_the_staff_after(
    make_database: Callable[[str], str], tmp_path: Path
) -> None:
    clock = Clock(TODAY)
    process = compose(
        PlatformSettings(data_dir=tmp_path / "data"),
        Settings(database_url=make_database("staffing")),
        clock=clock.county(),
    )
    upgrade(process.migrations, process.database_url)
    for hook in process.on_start:  # no facility known yet: nothing loaded, nothing fails
        hook(process)
    (retry,) = [job for job in process.periodic if job.name == "seed_staff"]
    retry.run()
    harness = HandlerHarness("staffing", process.database_url, units_of_work=process.units_of_work)
    assert not harness.published("staffing.staff.registered.v1")

    harness.apply(*county_events())
    retry.run()
    assert len(harness.published("staffing.staff.registered.v1")) == 48
    retry.run()  # nothing waits any more: nothing announced twice
    with process.database.sessions() as session:
        assert len(session.scalars(select(StaffMember)).all()) == 48
    assert len(harness.published("staffing.staff.registered.v1")) == 48
    harness.close()
    process.database.dispose()


def test_holding_the_county_loads_the_seed_staff(
    make_database: Callable[[str], str], tmp_path: Path
) -> None:
    process = compose(
        PlatformSettings(data_dir=tmp_path / "data"),
        Settings(database_url=make_database("staffing")),
        clock=Clock(TODAY).county(),
    )
    upgrade(process.migrations, process.database_url)
    harness = holding_the_county(process, county_events())
    assert len(harness.published("staffing.staff.registered.v1")) == 48
    harness.close()
    process.database.dispose()
