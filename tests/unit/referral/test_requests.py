"""Requesting a referral without a database: the request's own rules (domain) and the use
case through an in-memory unit of work."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from libs.events.catalogue.referral import ReferralRequested
from libs.events.catalogue.values import (
    FacilityTier,
    FacilityType,
    ReferralDirection,
    ReferralPriority,
)
from services.referral.config import ReferralConfig
from services.referral.domain.capacity import CapacityKind, DayCapacity
from services.referral.domain.lifecycle import ReferralState
from services.referral.domain.rules import FacilityRole, ReferralRuleError
from services.referral.service_layer.errors import (
    Actor,
    CapacityFull,
    NotAParty,
    RuleViolation,
)
from services.referral.service_layer.requests import request_referral
from tests.support.referral import (
    CARDIOLOGY,
    CLINIC,
    HOSPITAL,
    chest_pain,
    config,
    downward,
    referral_request,
    resident_id,
    upward,
)
from tests.unit.referral.fakes import FakeReferralUnitOfWork, facility, listed_drug

NOW = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)  # 09:30 on Monday 2 March in the county
TODAY = date(2026, 3, 2)
GP = Actor("gp-1", CLINIC)
CARDIOLOGIST = Actor("doc-1", HOSPITAL)


@pytest.fixture(scope="module")
def cfg(tmp_path_factory: pytest.TempPathFactory) -> ReferralConfig:
    return config(tmp_path_factory.mktemp("data"))


@pytest.fixture
def uow(cfg: ReferralConfig) -> FakeReferralUnitOfWork:
    fake = FakeReferralUnitOfWork(cfg)
    records = fake.records
    records.facilities[CLINIC] = facility(
        CLINIC, FacilityType.TOWNSHIP_CENTRE, FacilityTier.PRIMARY
    )
    records.facilities[HOSPITAL] = facility(
        HOSPITAL,
        FacilityType.COUNTY_HOSPITAL,
        FacilityTier.TERTIARY,
        [(CARDIOLOGY, "Cardiology")],
    )
    records.drugs["D-AMLODIPINE"] = listed_drug("D-AMLODIPINE", *FacilityTier)
    records.drugs["D-ALTEPLASE"] = listed_drug("D-ALTEPLASE", FacilityTier.TERTIARY)
    return fake


def _slots(uow: FakeReferralUnitOfWork, *days: DayCapacity) -> None:
    uow.records.capacity[(HOSPITAL, CARDIOLOGY)] = list(days)


# -- the request's own rules (pure) ---------------------------------------------------------


def test_capacity_needed_follows_priority_department_and_bed() -> None:
    name, nid = "张三", resident_id()
    assert referral_request(upward(name, nid)).capacity_needed is CapacityKind.SLOT
    assert referral_request(upward(name, nid, needs_bed=True)).capacity_needed is CapacityKind.BED
    # An emergency is taken whatever the count; without a department nothing is counted.
    assert referral_request(chest_pain(name, nid)).capacity_needed is None
    assert referral_request(downward(name, nid, "D-AMLODIPINE")).capacity_needed is None


def test_follow_up_specialty_is_the_plans_else_the_referring_departments() -> None:
    plain = referral_request(downward("李四", resident_id(), "D-AMLODIPINE"))
    assert plain.follow_up_specialty("Internal  Medicine") == "internal medicine"
    assert plain.follow_up_specialty(None) is None
    body = downward("李四", resident_id(), "D-AMLODIPINE")
    body["follow_up_plan"]["follow_up_specialty"] = "Cardiology"
    assert referral_request(body).follow_up_specialty("neurology") == "cardiology"
    assert referral_request(upward("王五", resident_id())).follow_up_specialty("x") is None


def test_entered_at_is_the_stated_time_in_utc_or_now() -> None:
    stated = datetime(2026, 3, 2, 9, 0, tzinfo=UTC) + timedelta(hours=8)
    body = upward("赵六", resident_id(), requested_at=stated.isoformat())
    request = referral_request(body)
    assert request.entered_at(NOW) == stated and request.entered_at(NOW).tzinfo is UTC
    assert referral_request(upward("赵六", resident_id())).entered_at(NOW) == NOW


def test_check_refuses_a_request_entered_too_long_ago(cfg: ReferralConfig) -> None:
    old = (NOW - cfg.backdate_limit - timedelta(minutes=5)).isoformat()
    request = referral_request(upward("钱七", resident_id(), requested_at=old))
    with pytest.raises(ReferralRuleError) as refused:
        request.check(NOW, cfg.backdate_limit, cfg.codes)
    assert refused.value.code == "requested_too_long_ago"


def test_check_route_wants_a_hospital_above_an_upward_referral() -> None:
    request = referral_request(upward("孙八", resident_id()))
    clinic = FacilityRole(CLINIC, FacilityType.TOWNSHIP_CENTRE)
    other = FacilityRole("QS-T02", FacilityType.VILLAGE_CLINIC, CARDIOLOGY)
    with pytest.raises(ReferralRuleError) as refused:
        request.check_route(clinic, other)
    assert refused.value.code == "direction_mismatch"
    request.check_route(clinic, FacilityRole(HOSPITAL, FacilityType.COUNTY_HOSPITAL, CARDIOLOGY))


# -- the use case through a fake unit of work -----------------------------------------------


def test_request_stores_and_announces_the_referral(
    uow: FakeReferralUnitOfWork, cfg: ReferralConfig
) -> None:
    _slots(
        uow,
        DayCapacity(TODAY, slots=1, beds=0, held_slots=1),
        DayCapacity(TODAY + timedelta(days=2), 3, 0),
    )
    nid = resident_id()
    result = request_referral(uow, cfg, referral_request(upward("周九", nid)), actor=GP, now=NOW)

    assert result.earliest_free_day == TODAY + timedelta(days=2)
    assert uow.committed
    (row,) = uow.records.referrals
    assert row.referral_id == result.referral_id
    assert row.state == ReferralState.REQUESTED.value
    assert row.patient_pseudonym == cfg.pseudonym(nid)
    assert nid.encode() not in row.patient_national_id  # sealed at rest
    assert row.accept_due_at == cfg.sla.accept_due(ReferralPriority.URGENT, NOW)
    assert row.requested_by == GP.subject
    (event,) = uow.published(ReferralRequested)
    assert event.referral_id == result.referral_id
    assert event.direction is ReferralDirection.UP
    assert event.patient_pseudonym == cfg.pseudonym(nid)
    (step,) = uow.records.timeline
    assert (step.kind, step.state, step.event_id) == ("requested", "requested", uow.events[0].id)
    assert step.details == {"earliest_free_day": (TODAY + timedelta(days=2)).isoformat()}


def test_a_full_department_refuses_the_request(
    uow: FakeReferralUnitOfWork, cfg: ReferralConfig
) -> None:
    _slots(uow, DayCapacity(TODAY, slots=2, beds=0, held_slots=2))
    with pytest.raises(CapacityFull):
        request_referral(
            uow, cfg, referral_request(upward("吴十", resident_id())), actor=GP, now=NOW
        )
    assert not uow.committed and not uow.events and not uow.records.referrals


def test_an_emergency_is_sent_without_looking_for_capacity(
    uow: FakeReferralUnitOfWork, cfg: ReferralConfig
) -> None:
    request = referral_request(chest_pain("郑一", resident_id()))
    result = request_referral(uow, cfg, request, actor=GP, now=NOW)  # no capacity published
    assert result.earliest_free_day is None
    assert len(uow.published(ReferralRequested)) == 1


def test_downward_plan_takes_the_referring_departments_specialty(
    uow: FakeReferralUnitOfWork, cfg: ReferralConfig
) -> None:
    request = referral_request(downward("冯二", resident_id(), "D-AMLODIPINE"))
    request_referral(uow, cfg, request, actor=CARDIOLOGIST, now=NOW)
    (row,) = uow.records.referrals
    assert row.follow_up_specialty == "cardiology"
    assert row.follow_up_plan is not None
    assert [m["drug_code"] for m in row.follow_up_plan["medications"]] == ["D-AMLODIPINE"]


def test_a_drug_the_clinic_may_not_stock_refuses_the_plan(
    uow: FakeReferralUnitOfWork, cfg: ReferralConfig
) -> None:
    request = referral_request(downward("陈三", resident_id(), "D-ALTEPLASE"))
    with pytest.raises(RuleViolation) as refused:
        request_referral(uow, cfg, request, actor=CARDIOLOGIST, now=NOW)
    assert refused.value.code == "drug_not_allowed"
    assert not uow.committed


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"to_facility_id": "QS-NOWHERE"}, "unknown_facility"),
        ({"to_department_id": "QS-H01-NONE"}, "unknown_department"),
        ({"reason_code": "bored"}, "unknown_code"),
    ],
)
def test_refusals_name_what_is_wrong(
    uow: FakeReferralUnitOfWork, cfg: ReferralConfig, changes: dict[str, str], code: str
) -> None:
    _slots(uow, DayCapacity(TODAY, 5, 0))
    request = referral_request(upward("褚四", resident_id(), **changes))
    with pytest.raises(RuleViolation) as refused:
        request_referral(uow, cfg, request, actor=GP, now=NOW)
    assert refused.value.code == code
    assert not uow.events


def test_only_the_referring_facility_may_request(
    uow: FakeReferralUnitOfWork, cfg: ReferralConfig
) -> None:
    with pytest.raises(NotAParty):
        request_referral(
            uow, cfg, referral_request(upward("卫五", resident_id())), actor=CARDIOLOGIST, now=NOW
        )
    assert not uow.records.referrals
