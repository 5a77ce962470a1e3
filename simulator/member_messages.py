"""What a member system sends the gateway for the catalogue's payloads: the JSON message
(the payload with the resident id instead of the pseudonym, no tier) and the FHIR R4 batch
Bundle (built with ``simulator.fhir_bundles``). Each message id is the fact's own name, a
bundle's the digest of the facts it holds, so the same batch sent again is the same
request. Pure."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from libs.events import Payload
from libs.events.catalogue.ingestion import (
    OrderPlaced,
    PrescriptionIssued,
    PrescriptionIssuedV2,
    ResultReported,
    VisitRecorded,
)
from libs.events.registry import registry
from simulator import fhir_bundles as fhir
from simulator.acts import birth_date_of

__all__ = ["Pending", "fhir_batch", "json_message", "message_id_of"]

_VISIT_ID = "https://fhir.county-medical-community.example/sid/visit-id"
_ORDER_ID = "https://fhir.county-medical-community.example/sid/order-id"


@dataclass(frozen=True)
class Pending:
    """A message waiting for its batch."""

    message_id: str
    topic: str
    payload: Payload
    national_id: str


def message_id_of(payload: Payload) -> str:
    """The fact's own name, the same however often and by whichever run it is sent."""
    spec = registry.for_payload(payload)
    digest = hashlib.sha256(payload.model_dump_json().encode()).hexdigest()
    return spec.fact_of(payload) or f"{spec.type}:{digest}"


def json_message(item: Pending) -> dict[str, Any]:
    """The catalogue's payload with the resident id instead of the pseudonym, no tier."""
    data = item.payload.model_dump(mode="json", exclude_none=True)
    data.pop("patient_pseudonym", None)
    data.pop("facility_tier", None)
    data["patient_national_id"] = item.national_id
    spec = registry.for_payload(item.payload)
    return {"message_id": item.message_id, "type": spec.type, "data": data}


def fhir_batch(facility_id: str, items: list[Pending]) -> tuple[dict[str, Any], list[int]]:
    """One batch Bundle for ``items`` (a Patient per patient with the birth date its resident
    id carries, an Encounter per visit, the MedicationRequests of each prescription and the
    patient's pregnancy status for a ``.v2`` one that has it, a ServiceRequest per order, a
    DiagnosticReport per result) and the index of each item's first entry."""
    digest = hashlib.sha256("\n".join(i.message_id for i in items).encode()).hexdigest()
    entries: list[dict[str, Any]] = []
    patients: dict[str, dict[str, Any]] = {}
    placed: dict[str, dict[str, Any]] = {}  # visits and orders of this bundle, by id
    firsts = []
    for item in items:
        if item.national_id not in patients:
            born = birth_date_of(item.national_id)  # the HIS knows it: the age band's source
            patients[item.national_id] = fhir.patient_entry(item.national_id, birth_date=born)
            entries.append(patients[item.national_id])
        subject = fhir.reference(patients[item.national_id])
        firsts.append(len(entries))
        entries += _fhir_entries(item.payload, subject, placed)
    return fhir.bundle("batch", f"sim-{facility_id}-{digest[:32]}", entries), firsts


def _fhir_entries(
    payload: Payload, subject: dict[str, Any], visits: dict[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    """The entries of one fact; ``visits`` holds the bundle's Encounters and orders."""
    if isinstance(payload, OrderPlaced | ResultReported):
        return _test_entries(payload, subject, visits)
    if isinstance(payload, VisitRecorded):
        visit = fhir.visit_entry(
            visit_id=payload.visit_id, facility_id=payload.facility_id, subject=subject,
            visit_type=str(payload.visit_type), occurred_at=payload.occurred_at,
            insurance_type=str(payload.insurance_type), total_amount=payload.total_amount,
            eligible_amount=payload.eligible_amount, diagnosis_codes=payload.diagnosis_codes,
            department_id=payload.department_id, insured_in_county=payload.insured_in_county,
            facility_in_county=payload.facility_in_county,
        )  # fmt: skip
        visits[payload.visit_id] = visit
        return [visit]
    if isinstance(payload, PrescriptionIssued):
        status = _pregnancy_status(payload, subject)
        return status + fhir.prescription_entries(
            prescription_id=payload.prescription_id, facility_id=payload.facility_id,
            subject=subject, category=str(payload.category), issued_at=payload.issued_at,
            lines=[line.model_dump() for line in payload.lines],
            prescriber_id=payload.prescriber_id, encounter=_encounter(payload.visit_id, visits),
            department_id=payload.department_id, total_amount=payload.total_amount,
        )  # fmt: skip
    raise TypeError(f"no FHIR resource for {type(payload).__name__}")


def _pregnancy_status(payload: PrescriptionIssued, subject: dict[str, Any]) -> list[dict[str, Any]]:
    """The patient's Pregnancy status Observation, when the ``.v2`` prescription says it."""
    if not isinstance(payload, PrescriptionIssuedV2) or payload.pregnant is None:
        return []
    key = f"{payload.facility_id}/{payload.prescription_id}"
    return [fhir.pregnancy_status_entry(subject, payload.pregnant, payload.issued_at, key)]


def _test_entries(
    payload: OrderPlaced | ResultReported, subject: dict[str, Any], placed: dict[str, Any]
) -> list[dict[str, Any]]:
    """A ServiceRequest, or a DiagnosticReport naming its order (in the bundle, or by id)."""
    if isinstance(payload, OrderPlaced):
        order = fhir.order_entry(
            order_id=payload.order_id, facility_id=payload.facility_id, subject=subject,
            test_kind=str(payload.test_kind), test_code=payload.test_code,
            ordered_at=payload.ordered_at, orderer_id=payload.orderer_id,
            encounter=_encounter(payload.visit_id, placed), department_id=payload.department_id,
        )  # fmt: skip
        placed[f"order:{payload.order_id}"] = order
        return [order]
    return fhir.result_entries(
        result_id=payload.result_id, facility_id=payload.facility_id, subject=subject,
        test_kind=str(payload.test_kind), test_code=payload.test_code,
        reported_at=payload.reported_at, observation_count=payload.observation_count,
        performed_at=payload.performed_at, order=_order(payload.order_id, placed),
    )  # fmt: skip


def _order(order_id: str | None, placed: dict[str, Any]) -> dict[str, Any] | None:
    """The order's ServiceRequest in this bundle, else a logical reference by its id."""
    if order_id is None:
        return None
    if f"order:{order_id}" in placed:
        return fhir.reference(placed[f"order:{order_id}"])
    return {"type": "ServiceRequest", "identifier": {"system": _ORDER_ID, "value": order_id}}


def _encounter(visit_id: str | None, visits: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    """The visit's Encounter in this bundle, else a logical reference by the visit id."""
    if visit_id is None:
        return None
    if visit_id in visits:
        return fhir.reference(visits[visit_id])
    return {"type": "Encounter", "identifier": {"system": _VISIT_ID, "value": visit_id}}
