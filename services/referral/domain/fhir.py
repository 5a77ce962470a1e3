"""A referral as FHIR R4 resources: the ServiceRequest (what was asked) and the Task (how
fulfilling it is going), after the FHIR workflow's referral pattern.

The patient appears by pseudonym only (a logical reference by identifier): names and
resident identity numbers stay in the referral service. Free-text notes are left out.
The status mapping is documented in docs/referral.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from libs.events.catalogue.values import ReferralDirection, ReferralPriority
from services.referral.domain.lifecycle import ReferralState

__all__ = [
    "SERVICE_REQUEST_STATUS",
    "TASK_STATUS",
    "ReferralFacts",
    "referral_bundle",
    "service_request",
    "task",
]

_BASE = "https://fhir.county-medical-community.example"
SID_REFERRAL = f"{_BASE}/sid/referral-id"
SID_FACILITY = f"{_BASE}/sid/facility-id"
SID_DEPARTMENT = f"{_BASE}/sid/department-id"
SID_PSEUDONYM = f"{_BASE}/sid/patient-pseudonym"
CS_STATE = f"{_BASE}/CodeSystem/referral-state"
CS_DIRECTION = f"{_BASE}/CodeSystem/referral-direction"
CS_GREEN_CHANNEL = f"{_BASE}/CodeSystem/green-channel"
CS_REASON = f"{_BASE}/CodeSystem/referral-reason"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
SNOMED = "http://snomed.info/sct"

#: referral state → ServiceRequest.status (request-status: the referrer's order).
SERVICE_REQUEST_STATUS: dict[ReferralState, str] = {
    ReferralState.REQUESTED: "active",
    ReferralState.ACCEPTED: "active",
    ReferralState.SCHEDULED: "active",
    ReferralState.ARRIVED: "active",
    ReferralState.COMPLETED: "completed",
    ReferralState.REJECTED: "revoked",
    ReferralState.CANCELLED: "revoked",
    ReferralState.EXPIRED: "revoked",
}

#: referral state → Task.status (task-status: the receiver's fulfilment).
TASK_STATUS: dict[ReferralState, str] = {
    ReferralState.REQUESTED: "requested",
    ReferralState.ACCEPTED: "accepted",
    ReferralState.REJECTED: "rejected",
    ReferralState.SCHEDULED: "ready",
    ReferralState.ARRIVED: "in-progress",
    ReferralState.COMPLETED: "completed",
    ReferralState.CANCELLED: "cancelled",
    ReferralState.EXPIRED: "failed",
}

_STATE_DISPLAY = {
    ReferralState.REQUESTED: "申请 requested",
    ReferralState.ACCEPTED: "已接收 accepted",
    ReferralState.REJECTED: "已拒绝 rejected",
    ReferralState.SCHEDULED: "已预约 scheduled",
    ReferralState.ARRIVED: "已到达 arrived",
    ReferralState.COMPLETED: "已完成 completed",
    ReferralState.CANCELLED: "已撤销 cancelled",
    ReferralState.EXPIRED: "已过期 expired",
}
_DIRECTION_DISPLAY = {ReferralDirection.UP: "上转 upward", ReferralDirection.DOWN: "下转 downward"}
_PRIORITY = {
    ReferralPriority.ROUTINE: "routine",
    ReferralPriority.URGENT: "urgent",
    ReferralPriority.EMERGENCY: "stat",
}


@dataclass(frozen=True)
class ReferralFacts:
    """What the FHIR view shows of a referral (no name, no identity number, no notes)."""

    referral_id: str
    state: ReferralState
    direction: ReferralDirection
    priority: ReferralPriority
    green_channel: str | None
    from_facility_id: str
    from_department_id: str | None
    to_facility_id: str
    to_department_id: str | None
    patient_pseudonym: str
    reason_code: str
    reason_display: str
    diagnosis_codes: list[str]
    requested_at: datetime
    updated_at: datetime
    scheduled_for: datetime | None = None
    arrived_at: datetime | None = None
    completed_at: datetime | None = None
    end_reason_code: str | None = None
    end_reason_display: str | None = None


def _instant(value: datetime) -> str:
    return value.isoformat(timespec="seconds")


def _organisation(facility_id: str) -> dict[str, Any]:
    return {"type": "Organization", "identifier": {"system": SID_FACILITY, "value": facility_id}}


def _patient(facts: ReferralFacts) -> dict[str, Any]:
    return {
        "type": "Patient",
        "identifier": {"system": SID_PSEUDONYM, "value": facts.patient_pseudonym},
    }


def _identifier(facts: ReferralFacts) -> list[dict[str, str]]:
    return [{"system": SID_REFERRAL, "value": facts.referral_id}]


def service_request(facts: ReferralFacts) -> dict[str, Any]:
    """The referral request (ServiceRequest, intent ``order``)."""
    reason = {"system": CS_REASON, "code": facts.reason_code, "display": facts.reason_display}
    reasons: list[dict[str, Any]] = [{"coding": [reason]}]
    reasons += [{"coding": [{"system": ICD10, "code": code}]} for code in facts.diagnosis_codes]
    performers = [_organisation(facts.to_facility_id)]
    if facts.to_department_id:
        performers.append(
            {
                "type": "HealthcareService",
                "identifier": {"system": SID_DEPARTMENT, "value": facts.to_department_id},
            }
        )
    resource: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "id": facts.referral_id,
        "identifier": _identifier(facts),
        "status": SERVICE_REQUEST_STATUS[facts.state],
        "intent": "order",
        "category": [
            {"coding": [{"system": SNOMED, "code": "3457005", "display": "Patient referral"}]}
        ],
        "priority": _PRIORITY[facts.priority],
        "code": {
            "coding": [
                {
                    "system": CS_DIRECTION,
                    "code": facts.direction.value,
                    "display": _DIRECTION_DISPLAY[facts.direction],
                }
            ]
        },
        "subject": _patient(facts),
        "authoredOn": _instant(facts.requested_at),
        "requester": _organisation(facts.from_facility_id),
        "performer": performers,
        "reasonCode": reasons,
    }
    if facts.green_channel:
        resource["orderDetail"] = [
            {"coding": [{"system": CS_GREEN_CHANNEL, "code": facts.green_channel}]}
        ]
    if facts.scheduled_for is not None:
        resource["occurrenceDateTime"] = _instant(facts.scheduled_for)
    return resource


def task(facts: ReferralFacts) -> dict[str, Any]:
    """The receiving facility's work on the referral (Task based on the ServiceRequest)."""
    request_ref = {"reference": f"ServiceRequest/{facts.referral_id}"}
    resource: dict[str, Any] = {
        "resourceType": "Task",
        "id": f"{facts.referral_id}-task",
        "identifier": _identifier(facts),
        "basedOn": [request_ref],
        "focus": request_ref,
        "status": TASK_STATUS[facts.state],
        "businessStatus": {
            "coding": [
                {
                    "system": CS_STATE,
                    "code": facts.state.value,
                    "display": _STATE_DISPLAY[facts.state],
                }
            ]
        },
        "intent": "order",
        "priority": _PRIORITY[facts.priority],
        "for": _patient(facts),
        "authoredOn": _instant(facts.requested_at),
        "lastModified": _instant(facts.updated_at),
        "requester": _organisation(facts.from_facility_id),
        "owner": _organisation(facts.to_facility_id),
    }
    if facts.end_reason_code:
        resource["statusReason"] = {
            "coding": [
                {
                    "system": CS_REASON,
                    "code": facts.end_reason_code,
                    "display": facts.end_reason_display or facts.end_reason_code,
                }
            ]
        }
    if facts.arrived_at is not None:
        period = {"start": _instant(facts.arrived_at)}
        if facts.completed_at is not None:
            period["end"] = _instant(facts.completed_at)
        resource["executionPeriod"] = period
    return resource


def referral_bundle(facts: ReferralFacts) -> dict[str, Any]:
    """Both resources in a ``collection`` Bundle."""
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": service_request(facts)}, {"resource": task(facts)}],
    }
