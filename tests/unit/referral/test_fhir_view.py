"""Every referral state reads as FHIR R4 ServiceRequest + Task that the SMART on FHIR R4
models (fhirclient, generated from FHIR 4.0.1) accept, with the documented status mapping."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fhirclient.models.bundle import Bundle
from fhirclient.models.servicerequest import ServiceRequest
from fhirclient.models.task import Task

from libs.events.catalogue.values import ReferralDirection, ReferralPriority
from services.referral.domain import fhir
from services.referral.domain.lifecycle import ReferralState

# The R4 value sets (request-status, task-status) the mapped codes must come from.
R4_REQUEST_STATUS = {
    "draft",
    "active",
    "on-hold",
    "revoked",
    "completed",
    "entered-in-error",
    "unknown",
}
R4_TASK_STATUS = {
    "draft",
    "requested",
    "received",
    "accepted",
    "rejected",
    "ready",
    "cancelled",
    "in-progress",
    "on-hold",
    "failed",
    "completed",
    "entered-in-error",
}
ASKED = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


def facts(state: ReferralState, **changes: Any) -> fhir.ReferralFacts:
    values: dict[str, Any] = {
        "referral_id": "RF-0123456789abcdef01234567",
        "state": state,
        "direction": ReferralDirection.UP,
        "priority": ReferralPriority.EMERGENCY,
        "green_channel": "chest_pain",
        "from_facility_id": "QS-T01",
        "from_department_id": None,
        "to_facility_id": "QS-H01",
        "to_department_id": "QS-H01-CARD",
        "patient_pseudonym": "ab" * 32,
        "reason_code": "green_channel",
        "reason_display": "急危重症绿色通道",
        "diagnosis_codes": ["I21.9", "I10"],
        "requested_at": ASKED,
        "updated_at": ASKED + timedelta(minutes=5),
    }
    values.update(changes)
    return fhir.ReferralFacts(**values)


def test_the_mapping_covers_every_state_with_r4_codes() -> None:
    assert set(fhir.SERVICE_REQUEST_STATUS) == set(ReferralState)
    assert set(fhir.TASK_STATUS) == set(ReferralState)
    assert set(fhir.SERVICE_REQUEST_STATUS.values()) <= R4_REQUEST_STATUS
    assert set(fhir.TASK_STATUS.values()) <= R4_TASK_STATUS
    # The Task tells apart what the ServiceRequest folds together.
    ended = [ReferralState.REJECTED, ReferralState.CANCELLED, ReferralState.EXPIRED]
    assert {fhir.SERVICE_REQUEST_STATUS[s] for s in ended} == {"revoked"}
    assert len({fhir.TASK_STATUS[s] for s in ended}) == 3


@pytest.mark.parametrize("state", list(ReferralState))
def test_each_state_validates_as_r4(state: ReferralState) -> None:
    extra: dict[str, Any] = {}
    if state in (ReferralState.ARRIVED, ReferralState.COMPLETED):
        extra = {"arrived_at": ASKED + timedelta(minutes=40), "scheduled_for": ASKED}
    if state is ReferralState.COMPLETED:
        extra["completed_at"] = ASKED + timedelta(days=3)
    if state in (ReferralState.REJECTED, ReferralState.CANCELLED):
        extra |= {"end_reason_code": "no_capacity", "end_reason_display": "无床位或号源"}
    bundle_json = json.loads(json.dumps(fhir.referral_bundle(facts(state, **extra))))

    bundle = Bundle(bundle_json)  # strict: raises on any invalid or unknown element
    request, task = (entry.resource for entry in bundle.entry)
    assert isinstance(request, ServiceRequest)
    assert isinstance(task, Task)
    assert request.status == fhir.SERVICE_REQUEST_STATUS[state]
    assert task.status == fhir.TASK_STATUS[state]
    assert task.businessStatus.coding[0].code == state.value
    assert task.basedOn[0].reference == f"ServiceRequest/{request.id}"
    assert request.priority == task.priority == "stat"
    assert request.subject.identifier.value == "ab" * 32
    assert [c.coding[0].code for c in request.reasonCode] == ["green_channel", "I21.9", "I10"]
    assert request.orderDetail[0].coding[0].code == "chest_pain"
    assert request.requester.identifier.value == "QS-T01"
    assert task.owner.identifier.value == "QS-H01"
    if state is ReferralState.COMPLETED:
        assert task.executionPeriod.end.isostring.startswith("2026-11-05")
    if state is ReferralState.REJECTED:
        assert task.statusReason.coding[0].code == "no_capacity"
    # Round trip: what the library writes back is what we produced.
    assert ServiceRequest(request.as_json()).as_json() == request.as_json()


def test_a_downward_routine_referral_without_green_channel_or_department() -> None:
    bundle = fhir.referral_bundle(
        facts(
            ReferralState.REQUESTED,
            direction=ReferralDirection.DOWN,
            priority=ReferralPriority.ROUTINE,
            green_channel=None,
            to_department_id=None,
        )
    )
    request = ServiceRequest(bundle["entry"][0]["resource"])
    assert request.priority == "routine"
    assert request.orderDetail is None
    assert request.code.coding[0].code == "down"
    assert len(request.performer) == 1


def test_the_library_does_refuse_a_broken_resource() -> None:
    """The validation above can fail: a missing required element or a wrong type is refused."""
    from fhirclient.models.fhirabstractbase import FHIRValidationError

    broken = fhir.task(facts(ReferralState.ACCEPTED))
    del broken["intent"]  # 1..1 in R4
    with pytest.raises(FHIRValidationError):
        Task(broken)
    wrong = fhir.service_request(facts(ReferralState.ACCEPTED))
    wrong["authoredOn"] = 20261102
    with pytest.raises(FHIRValidationError):
        ServiceRequest(wrong)
