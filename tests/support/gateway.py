"""Speaking to the gateway as a member system: credentials and messages."""

from __future__ import annotations

import base64
import random
import zlib
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from libs.events.envelope import utc_now
from simulator.sampling import resident_id

#: Member systems of infra/gateway/systems.yaml (their development secrets).
FHIR_SYSTEM, FHIR_FACILITY = "QS-T01-HIS", "QS-T01"
JSON_SYSTEM, JSON_FACILITY = "QS-T02-HIS", "QS-T02"
#: A drug on the seed formulary that township centres stock.
DRUG = "QSY-W011"


def basic(system_id: str, secret: str | None = None) -> dict[str, str]:
    """HTTP Basic headers for ``system_id`` (its development secret unless given)."""
    token = f"{system_id}:{secret or 'DEVELOPMENT-' + system_id}"
    return {"Authorization": "Basic " + base64.b64encode(token.encode()).decode()}


def national_id(seed: int) -> str:
    return resident_id(random.Random(seed))


def visit_message(
    message_id: str,
    visit_id: str,
    *,
    facility: str = JSON_FACILITY,
    patient: str | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    return {
        "message_id": message_id,
        "type": "ingestion.visit.recorded.v1",
        "data": {
            "visit_id": visit_id,
            "facility_id": facility,
            "patient_national_id": patient or national_id(zlib.crc32(visit_id.encode())),
            "insurance_type": "urban_rural_resident",
            "visit_type": "outpatient",
            "diagnosis_codes": ["J06.9"],
            "total_amount": "35.00",
            "eligible_amount": "30.00",
            "occurred_at": (at or utc_now() - timedelta(minutes=5)).isoformat(),
        },
    }


def prescription_message(
    message_id: str,
    prescription_id: str,
    *,
    facility: str = JSON_FACILITY,
    patient: str | None = None,
    quantity: int = 1,
) -> dict[str, Any]:
    return {
        "message_id": message_id,
        "type": "ingestion.prescription.issued.v1",
        "data": {
            "prescription_id": prescription_id,
            "facility_id": facility,
            "patient_national_id": patient or national_id(zlib.crc32(prescription_id.encode())),
            "category": "western",
            "lines": [{"line_no": 1, "drug_code": DRUG, "quantity": quantity}],
            "total_amount": "12.50",
            "issued_at": (utc_now() - timedelta(minutes=4)).isoformat(),
        },
    }


def fhir_visit_bundle(
    message_id: str,
    visit_id: str,
    prescription_id: str,
    *,
    facility: str = FHIR_FACILITY,
    kind: str = "batch",
    patient: str | None = None,
    quantity: int = 1,
) -> dict[str, Any]:
    """A township HIS's bundle: the patient, the encounter and a one-line prescription."""
    from simulator import fhir_bundles as fhir

    person = fhir.patient_entry(patient or national_id(zlib.crc32(visit_id.encode())))
    at = utc_now() - timedelta(minutes=10)
    encounter = fhir.visit_entry(
        visit_id=visit_id,
        facility_id=facility,
        subject=fhir.reference(person),
        visit_type="outpatient",
        occurred_at=at,
        insurance_type="urban_rural_resident",
        total_amount=Decimal("25.00"),
        eligible_amount=Decimal("20.00"),
        diagnosis_codes=["I10"],
    )
    lines = [{"line_no": 1, "drug_code": DRUG, "quantity": quantity, "unit_price": "4.2000"}]
    prescription = fhir.prescription_entries(
        prescription_id=prescription_id,
        facility_id=facility,
        subject=fhir.reference(person),
        category="western",
        issued_at=at + timedelta(minutes=2),
        lines=lines,
        encounter=fhir.reference(encounter),
    )
    return fhir.bundle(kind, message_id, [person, encounter, *prescription])
