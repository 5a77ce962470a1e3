"""Referral rules, the SLA table, the code lists, resident identity numbers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from libs.events.catalogue.values import (
    FacilityType,
    GreenChannel,
    ReferralDirection,
    ReferralPriority,
)
from libs.platform.settings import REPO_ROOT
from services.referral.domain import rules
from services.referral.domain.codes import UnknownCode, parse_codes
from services.referral.domain.patient import (
    PatientIdentity,
    is_resident_id,
    mask_resident_id,
)
from services.referral.domain.sla import Stage, parse_duration, parse_sla
from tests.support.referral import resident_id

UP, DOWN = ReferralDirection.UP, ReferralDirection.DOWN
CLINIC = rules.FacilityRole("QS-T01", FacilityType.TOWNSHIP_CENTRE)
VILLAGE = rules.FacilityRole("QS-V01", FacilityType.VILLAGE_CLINIC)
HOSPITAL = rules.FacilityRole("QS-H01", FacilityType.COUNTY_HOSPITAL, "QS-H01-CARD")
TCM = rules.FacilityRole("QS-H02", FacilityType.TCM_HOSPITAL, "QS-H02-TCMI")
INFRA = REPO_ROOT / "infra" / "referral"


def refused(call, *args) -> str:
    with pytest.raises(rules.ReferralRuleError) as error:
        call(*args)
    return error.value.code


def test_up_goes_from_primary_care_to_a_hospital_department_and_down_the_other_way() -> None:
    rules.check_route(UP, CLINIC, HOSPITAL)
    rules.check_route(UP, VILLAGE, TCM)
    rules.check_route(DOWN, rules.FacilityRole("QS-H01", FacilityType.COUNTY_HOSPITAL), CLINIC)
    assert refused(rules.check_route, UP, HOSPITAL, CLINIC) == "direction_mismatch"
    assert refused(rules.check_route, DOWN, CLINIC, HOSPITAL) == "direction_mismatch"
    no_department = rules.FacilityRole("QS-H02", FacilityType.TCM_HOSPITAL)
    assert refused(rules.check_route, UP, CLINIC, no_department) == "department_required"
    assert refused(rules.check_route, UP, CLINIC, CLINIC) == "same_facility"


def test_green_channels_are_upward_emergencies_and_plans_go_down() -> None:
    emergency, urgent = ReferralPriority.EMERGENCY, ReferralPriority.URGENT
    rules.check_priority(UP, emergency, GreenChannel.STROKE, False)
    rules.check_priority(DOWN, urgent, None, True)
    assert refused(rules.check_priority, UP, urgent, GreenChannel.STROKE, False) == (
        "green_channel_not_allowed"
    )
    assert refused(rules.check_priority, DOWN, emergency, None, True) == "priority_not_allowed"
    assert refused(rules.check_priority, DOWN, urgent, None, False) == "follow_up_plan_required"
    assert refused(rules.check_priority, UP, urgent, None, True) == "follow_up_plan_not_allowed"
    assert refused(rules.check_medications, ["D1", "D2", "D1"]) == "duplicate_medication"


def test_a_referral_may_be_entered_late_but_never_early() -> None:
    now = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    limit = timedelta(hours=24)
    rules.check_requested_at(now - timedelta(hours=3), now, limit)
    assert refused(rules.check_requested_at, now + timedelta(hours=1), now, limit) == (
        "requested_in_future"
    )
    assert refused(rules.check_requested_at, now - timedelta(days=2), now, limit) == (
        "requested_too_long_ago"
    )


def test_the_shipped_sla_table() -> None:
    policy = parse_sla(yaml.safe_load((INFRA / "sla.yaml").read_text("utf-8")))
    asked = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    emergency = policy.of(ReferralPriority.EMERGENCY)
    assert policy.accept_due(ReferralPriority.EMERGENCY, asked) == asked + timedelta(minutes=10)
    assert policy.accept_due(ReferralPriority.URGENT, asked) == asked + timedelta(hours=2)
    assert policy.accept_due(ReferralPriority.ROUTINE, asked) == asked + timedelta(days=2)
    assert emergency.escalate_to == "medical_director"
    assert policy.of(ReferralPriority.ROUTINE).escalate_to == "department_head"
    assert policy.arrive_due(ReferralPriority.ROUTINE, asked) is None
    assert policy.arrive_due(ReferralPriority.EMERGENCY, asked) == asked + timedelta(minutes=90)
    assert [s.value for s in Stage] == ["acceptance", "arrival"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"routine": None}, "no terms for priority routine"),
        ({"urgent": {"accept_within": "2h", "expire_after": "1h"}}, "expire_after"),
        ({"urgent": {"accept_within": "2 hours", "expire_after": "1d"}}, "duration"),
        ({"soon": {"accept_within": "1h", "expire_after": "2h"}}, "unknown priorities"),
        (
            {"urgent": {"accept_within": "1h", "expire_after": "2h", "escalate_to": "Boss!"}},
            "role code",
        ),
    ],
)
def test_a_broken_sla_table_is_refused_at_start(change: dict, message: str) -> None:
    doc = yaml.safe_load((INFRA / "sla.yaml").read_text("utf-8"))
    for key, value in change.items():
        if value is None:
            del doc["priorities"][key]
        else:
            doc["priorities"][key] = value
    with pytest.raises(ValueError, match=message):
        parse_sla(doc)


def test_durations() -> None:
    assert parse_duration("90s") == timedelta(seconds=90)
    assert parse_duration("2d") == timedelta(days=2)
    with pytest.raises(ValueError, match="10m"):
        parse_duration("ten minutes")


def test_the_shipped_code_lists() -> None:
    codes = parse_codes(yaml.safe_load((INFRA / "codes.yaml").read_text("utf-8")))
    codes.check_request_reason(UP, "green_channel")
    codes.check_request_reason(DOWN, "rehabilitation")
    with pytest.raises(UnknownCode) as unknown:
        codes.check_request_reason(UP, "rehabilitation")  # a reason to go down, not up
    assert unknown.value.field == "reason_code"
    assert "needs_surgery" in unknown.value.allowed
    codes.check_rejection_reason("no_capacity")
    codes.check_cancellation_reason("entered_in_error")
    assert codes.display("no_capacity") == "无床位或号源"
    with pytest.raises(ValueError, match="missing or empty"):
        parse_codes({"request_reasons": {"up": {"a": "A"}, "down": {"b": "B"}}})


def test_resident_identity_numbers() -> None:
    assert is_resident_id("11010519491231002X")  # the standard's own example
    assert is_resident_id("11010519491231002x")
    assert not is_resident_id("110105194912310021")  # wrong check digit
    assert not is_resident_id("110105194913310027")  # no 13th month
    assert not is_resident_id("1101051949123100")
    assert mask_resident_id("11010519491231002x") == "110105********002X"


@given(st.integers(min_value=0, max_value=999))
def test_generated_numbers_are_valid_and_a_changed_digit_is_caught(n: int) -> None:
    number = resident_id(n)
    assert is_resident_id(number)
    digit = int(number[10])
    assert not is_resident_id(number[:10] + str((digit + 1) % 10) + number[11:])


def test_a_patient_s_repr_and_errors_show_neither_name_nor_number() -> None:
    patient = PatientIdentity("王秀英", "11010519491231002x")
    assert patient.national_id == "11010519491231002X"
    assert "王秀英" not in repr(patient)
    assert "1101" not in repr(patient)
    with pytest.raises(ValueError, match="not a valid resident identity number") as error:
        PatientIdentity("王秀英", "110105194912310021")
    assert "110105194912310021" not in str(error.value)
