"""The writer side of the gateway's FHIR profile: Bundles as a member's HIS, LIS or PACS
sends them, built from the catalogue's plain values (for the simulator and the tests).

The profile's URLs are repeated here, not imported: the simulator plays an outside system
and never imports the services. tests/unit/gateway pins them to
``services/gateway/domain/fhir_profile.py`` by a round trip.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

__all__ = [
    "NATIONAL_ID_SYSTEM",
    "bundle",
    "order_entry",
    "patient_by_identifier",
    "patient_entry",
    "pregnancy_status_entry",
    "prescription_entries",
    "reference",
    "result_entries",
    "visit_entry",
]

_BASE = "https://fhir.county-medical-community.example"
_EXT = f"{_BASE}/StructureDefinition/"
_SID = f"{_BASE}/sid/"
NATIONAL_ID_SYSTEM = "urn:oid:2.16.156.10011.1.1"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
V2_0074 = "http://terminology.hl7.org/CodeSystem/v2-0074"
LOINC = "http://loinc.org"
#: LOINC 82810-3 Pregnancy status, and its answers (answer list LL4129-4).
PREGNANCY_STATUS = "82810-3"
_PREGNANCY_ANSWER = {True: ("LA15173-0", "Pregnant"), False: ("LA26683-5", "Not pregnant")}
_CLASS = {"outpatient": "AMB", "emergency": "EMER", "inpatient": "IMP"}
_SECTION = {"laboratory": "LAB", "imaging": "RAD"}

Json = dict[str, Any]


def _full_url(kind: str, key: str) -> str:
    """A stable ``urn:uuid`` for a resource, so that a resent bundle is the same bundle."""
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{_BASE}/{kind}/{key}')}"


def _entry(resource: Json, full_url: str) -> Json:
    return {
        "fullUrl": full_url,
        "resource": resource,
        "request": {"method": "POST", "url": resource["resourceType"]},
    }


def _money(value: Decimal | int | str) -> Json:
    return {"value": float(Decimal(value)), "currency": "CNY"}


def _identifier(kind: str, value: str) -> Json:
    return {"system": _SID + kind, "value": value}


def _organization(facility_id: str) -> Json:
    return {"type": "Organization", "identifier": _identifier("facility-id", facility_id)}


def _practitioner(staff_id: str | None) -> Json | None:
    if staff_id is None:
        return None
    return {"type": "Practitioner", "identifier": _identifier("staff-id", staff_id)}


def _clean(resource: Json) -> Json:
    return {key: value for key, value in resource.items() if value not in (None, [], {})}


def _requested_at(department_id: str | None, facility_id: str | None) -> list[Json]:
    extensions = []
    if facility_id is not None:
        extensions.append({"url": _EXT + "facility", "valueReference": _organization(facility_id)})
    if department_id is not None:
        department = _identifier("department-id", department_id)
        extensions.append({"url": _EXT + "department-id", "valueIdentifier": department})
    return extensions


def reference(entry: Json) -> Json:
    """A literal reference to an entry of the same bundle."""
    return {"reference": entry["fullUrl"]}


def patient_by_identifier(national_id: str, system: str = NATIONAL_ID_SYSTEM) -> Json:
    """A logical reference to a patient by resident identity number."""
    return {"type": "Patient", "identifier": {"system": system, "value": national_id}}


def patient_entry(
    national_id: str, system: str = NATIONAL_ID_SYSTEM, *, birth_date: date | str | None = None
) -> Json:
    """A Patient carrying the resident identity number, and its birthDate if given (a date,
    or FHIR's partial ``YYYY``/``YYYY-MM``): the gateway turns it into the age band of the
    patient's ``.v2`` prescriptions."""
    patient: Json = {
        "resourceType": "Patient",
        "identifier": [{"system": system, "value": national_id}],
    }
    if birth_date is not None:
        patient["birthDate"] = str(birth_date)
    return _entry(patient, _full_url("Patient", national_id))


def pregnancy_status_entry(subject: Json, pregnant: bool, observed_at: datetime, key: str) -> Json:
    """An Observation of LOINC 82810-3 (Pregnancy status) about ``subject``: context for the
    bundle's prescriptions (their ``pregnant``), never a result. ``key`` names it stably."""
    code, display = _PREGNANCY_ANSWER[pregnant]
    observation = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": PREGNANCY_STATUS}]},
        "subject": subject,
        "effectiveDateTime": observed_at.isoformat(),
        "valueCodeableConcept": {"coding": [{"system": LOINC, "code": code, "display": display}]},
    }
    return _entry(observation, _full_url("Observation", f"pregnancy/{key}"))


def visit_entry(
    *,
    visit_id: str,
    facility_id: str,
    subject: Json,
    visit_type: str,
    occurred_at: datetime,
    insurance_type: str,
    total_amount: Decimal,
    eligible_amount: Decimal,
    diagnosis_codes: Sequence[str] = (),
    department_id: str | None = None,
    insured_in_county: bool = True,
    facility_in_county: bool = True,
) -> Json:
    """An Encounter: one visit (``ingestion.visit.recorded.v1``)."""
    extensions = [
        {"url": _EXT + "total-amount", "valueMoney": _money(total_amount)},
        {"url": _EXT + "eligible-amount", "valueMoney": _money(eligible_amount)},
        {"url": _EXT + "insurance-type", "valueCode": insurance_type},
        {"url": _EXT + "insured-in-county", "valueBoolean": insured_in_county},
        {"url": _EXT + "facility-in-county", "valueBoolean": facility_in_county},
        *_requested_at(department_id, None),
    ]
    encounter = {
        "resourceType": "Encounter",
        "extension": extensions,
        "identifier": [_identifier("visit-id", visit_id)],
        "status": "finished",
        "class": {"system": ACT_CODE, "code": _CLASS[visit_type]},
        "subject": subject,
        "period": {"start": occurred_at.isoformat()},
        "reasonCode": [{"coding": [{"system": ICD10, "code": code}]} for code in diagnosis_codes],
        "serviceProvider": _organization(facility_id),
    }
    return _entry(_clean(encounter), _full_url("Encounter", f"{facility_id}/{visit_id}"))


def prescription_entries(
    *,
    prescription_id: str,
    facility_id: str,
    subject: Json,
    category: str,
    issued_at: datetime,
    lines: Sequence[Mapping[str, Any]],
    prescriber_id: str | None = None,
    encounter: Json | None = None,
    department_id: str | None = None,
    total_amount: Decimal | None = None,
) -> list[Json]:
    """One MedicationRequest per line (the catalogue's PrescriptionLine fields), grouped by
    ``groupIdentifier`` (``ingestion.prescription.issued.v1``; ``.v2`` with a prescriber)."""
    extensions = _requested_at(department_id, facility_id)
    if total_amount is not None:
        extensions.append({"url": _EXT + "total-amount", "valueMoney": _money(total_amount)})
    shared = {
        "resourceType": "MedicationRequest",
        "groupIdentifier": _identifier("prescription-id", prescription_id),
        "status": "active",
        "intent": "order",
        "category": [_coding(_BASE + "/CodeSystem/prescription-category", category)],
        "subject": subject,
        "encounter": encounter,
        "authoredOn": issued_at.isoformat(),
        "requester": _practitioner(prescriber_id),
    }
    entries = []
    for line in lines:
        resource = _clean({**shared, **_line(line, extensions)})
        key = f"{facility_id}/{prescription_id}/{line['line_no']}"
        entries.append(_entry(resource, _full_url("MedicationRequest", key)))
    return entries


def _coding(system: str, code: str) -> Json:
    return {"coding": [{"system": system, "code": code}]}


def _line(line: Mapping[str, Any], shared: list[Json]) -> Json:
    extensions = [*shared, {"url": _EXT + "line-number", "valuePositiveInt": line["line_no"]}]
    if line.get("unit_price") is not None:
        extensions.append({"url": _EXT + "unit-price", "valueMoney": _money(line["unit_price"])})
    dispense: Json = {"quantity": {"value": line["quantity"]}}
    if line.get("days_supply") is not None:
        dispense["expectedSupplyDuration"] = {
            "value": line["days_supply"],
            "unit": "d",
            "system": "http://unitsofmeasure.org",
            "code": "d",
        }
    return {
        "extension": extensions,
        "medicationCodeableConcept": _coding(_SID + "drug-code", line["drug_code"]),
        "dispenseRequest": dispense,
    }


def order_entry(
    *,
    order_id: str,
    facility_id: str,
    subject: Json,
    test_kind: str,
    test_code: str,
    ordered_at: datetime,
    orderer_id: str | None = None,
    encounter: Json | None = None,
    department_id: str | None = None,
) -> Json:
    """A ServiceRequest: one test or examination ordered (``ingestion.order.placed.v1``)."""
    request = {
        "resourceType": "ServiceRequest",
        "extension": _requested_at(department_id, facility_id),
        "identifier": [_identifier("order-id", order_id)],
        "status": "active",
        "intent": "order",
        "category": [_coding(V2_0074, _SECTION[test_kind])],
        "code": _coding(_SID + "test-code", test_code),
        "subject": subject,
        "encounter": encounter,
        "authoredOn": ordered_at.isoformat(),
        "requester": _practitioner(orderer_id),
    }
    return _entry(_clean(request), _full_url("ServiceRequest", f"{facility_id}/{order_id}"))


def result_entries(
    *,
    result_id: str,
    facility_id: str,
    subject: Json,
    test_kind: str,
    test_code: str,
    reported_at: datetime,
    observation_count: int = 0,
    performed_at: datetime | None = None,
    order: Json | None = None,
) -> list[Json]:
    """A DiagnosticReport and its ``observation_count`` Observations
    (``ingestion.result.reported.v1``); ``order`` references the ServiceRequest."""
    key = f"{facility_id}/{result_id}"
    observations = [
        _entry(_observation(subject, test_code, n), _full_url("Observation", f"{key}/{n}"))
        for n in range(1, observation_count + 1)
    ]
    report = {
        "resourceType": "DiagnosticReport",
        "identifier": [_identifier("result-id", result_id)],
        "basedOn": [order] if order else None,
        "status": "final",
        "category": [_coding(V2_0074, _SECTION[test_kind])],
        "code": _coding(_SID + "test-code", test_code),
        "subject": subject,
        "effectiveDateTime": performed_at.isoformat() if performed_at else None,
        "issued": reported_at.isoformat(),
        "performer": [_organization(facility_id)],
        "result": [reference(entry) for entry in observations],
    }
    return [_entry(_clean(report), _full_url("DiagnosticReport", key)), *observations]


def _observation(subject: Json, test_code: str, number: int) -> Json:
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": _coding(_SID + "test-code", f"{test_code}.{number}"),
        "subject": subject,
    }


def bundle(kind: str, message_id: str, entries: Sequence[Json]) -> Json:
    """A ``batch`` or ``transaction`` Bundle whose identifier is the system's message id."""
    return {
        "resourceType": "Bundle",
        "identifier": _identifier("message-id", message_id),
        "type": kind,
        "entry": list(entries),
    }
