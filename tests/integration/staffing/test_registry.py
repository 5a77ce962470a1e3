"""The staff registry and its seed list, on a real database."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
import yaml
from sqlalchemy import select

from libs.events.catalogue.staffing import StaffSnapshot
from libs.events.catalogue.values import HalfDay, StaffTitle
from services.staffing.adapters.schema import StaffMember
from services.staffing.domain.registry import PositionSpec, parse_staff_seed
from services.staffing.service_layer import planning, registry, stationing
from services.staffing.service_layer.errors import Conflict, RulesViolated, UnknownReference
from services.staffing.service_layer.lookup import snapshot
from tests.integration.staffing.conftest import (
    CARDIOLOGY_CHIEF,
    NEXT_WEEK,
    STAFF,
    TODAY,
    Staffing,
)

NEW = StaffSnapshot(
    staff_id="S-H01-900",
    display_name="欧阳明",
    home_facility_id="QS-H01",
    department_id="QS-H01-ENDO",
    title=StaffTitle.ASSOCIATE_CHIEF,
    specialty="endocrinology",
    active_from=date(2027, 3, 1),
)


def record(staffing: Staffing, staff_id: str) -> StaffSnapshot:
    return staffing.query(lambda uow: snapshot(uow.session.get_one(StaffMember, staff_id)))


def test_the_seed_is_loaded_once_and_the_api_takes_records_over(staffing: Staffing) -> None:
    seed = parse_staff_seed(yaml.safe_load(STAFF.read_text("utf-8")))
    assert staffing.count("staffing.staff.registered.v1") == len(seed.staff) == 48
    assert registry.sync_staff_seed(staffing.uow(), seed).announced == []  # idempotent

    # A seed correction reaches a record the seed still owns...
    fixed = [
        s.model_copy(update={"display_name": "张伟明"}) if s.staff_id == "S-H01-003" else s
        for s in seed.staff
    ]
    corrected = replace(seed, staff=fixed)
    assert registry.sync_staff_seed(staffing.uow(), corrected).announced == ["S-H01-003"]
    assert record(staffing, "S-H01-003").display_name == "张伟明"
    # ...but not one HR has changed since.
    chief = record(staffing, CARDIOLOGY_CHIEF)
    registry.update_staff(staffing.uow(), chief.model_copy(update={"specialty": "cardiology "}))
    renamed = [s.model_copy(update={"specialty": "heart"}) for s in corrected.staff]
    announced = registry.sync_staff_seed(staffing.uow(), replace(seed, staff=renamed)).announced
    assert CARDIOLOGY_CHIEF not in announced
    assert len(announced) == 47
    assert record(staffing, CARDIOLOGY_CHIEF).specialty == "cardiology "


def test_registering_checks_facility_department_and_position(staffing: Staffing) -> None:
    registry.register_staff(staffing.uow(), NEW, "P-H01-ENDO-02")  # the vacant post
    (event,) = [
        e for e in staffing.published("staffing.staff.registered.v1") if e.subject == NEW.staff_id
    ]
    assert event.data.model_dump() == NEW.model_dump()
    assert not staffing.query(lambda uow: registry.vacant(uow, "P-H01-ENDO-02"))

    with pytest.raises(Conflict) as twice:
        registry.register_staff(staffing.uow(), NEW)
    assert twice.value.code == "already_registered"
    other = NEW.model_copy(update={"staff_id": "S-H01-901"})
    with pytest.raises(Conflict) as filled:
        registry.register_staff(staffing.uow(), other, "P-H01-ENDO-02")
    assert filled.value.code == "position_filled"
    for change, code in (
        ({"home_facility_id": "QS-NOWHERE"}, "unknown_facility"),
        ({"department_id": "QS-H02-ACUP"}, "unknown_department"),
    ):
        with pytest.raises(UnknownReference) as unknown:
            registry.register_staff(staffing.uow(), other.model_copy(update=change))
        assert unknown.value.code == code

    registry.create_position(
        staffing.uow(),
        PositionSpec(
            position_id="P-C01-GP-02",
            facility_id="QS-C01",
            title=StaffTitle.ATTENDING,
            specialty="general practice",
        ),
    )
    assert staffing.query(lambda uow: registry.vacant(uow, "P-C01-GP-02"))


def test_deactivation_cancels_later_sessions_ends_stationing_and_vacates_the_post(
    staffing: Staffing,
) -> None:
    kept = planning.plan_session(
        staffing.uow(),
        staff_id=CARDIOLOGY_CHIEF,
        facility_id="QS-T01",
        day=NEXT_WEEK,
        half_day=HalfDay.MORNING,
    )
    dropped = planning.plan_session(
        staffing.uow(),
        staff_id=CARDIOLOGY_CHIEF,
        facility_id="QS-T01",
        day=NEXT_WEEK + timedelta(weeks=2),
        half_day=HalfDay.MORNING,
    )
    posting = stationing.start_stationing(
        staffing.uow(),
        staff_id=CARDIOLOGY_CHIEF,
        facility_id="QS-T01",
        start=TODAY,
        planned_end=TODAY + timedelta(days=190),
    )
    with pytest.raises(RulesViolated) as outside:
        registry.update_staff(
            staffing.uow(),
            record(staffing, CARDIOLOGY_CHIEF).model_copy(update={"active_until": NEXT_WEEK}),
        )
    assert {v.rule.value for v in outside.value.violations} == {"staff_not_active"}

    result = registry.deactivate_staff(staffing.uow(), CARDIOLOGY_CHIEF, NEXT_WEEK + timedelta(6))
    assert [s.session_id for s in result.cancelled] == [dropped.session_id]
    assert [s.stationing_id for s in result.ended] == [posting.stationing_id]
    assert kept.session_id not in {
        e.data.session_id for e in staffing.published("staffing.session.cancelled.v1")
    }
    (ended,) = staffing.published("staffing.stationing.ended.v1")
    assert ended.data.end_date == NEXT_WEEK + timedelta(6)
    (gone,) = staffing.published("staffing.staff.deactivated.v1")
    assert gone.data.active_until == NEXT_WEEK + timedelta(6)
    staffing.clock.set(NEXT_WEEK + timedelta(weeks=1))
    assert staffing.query(lambda uow: registry.vacant(uow, "P-H01-CARD-01"))
    with pytest.raises(Conflict):
        registry.deactivate_staff(staffing.uow(), CARDIOLOGY_CHIEF, NEXT_WEEK)
    active = staffing.query(
        lambda uow: uow.session.scalars(
            select(StaffMember.staff_id).where(StaffMember.deactivated_at.is_(None))
        ).all()
    )
    assert CARDIOLOGY_CHIEF not in active
