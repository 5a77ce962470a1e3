"""FHIR R4 bundles through the gateway in-process, on each database: batch and transaction
answers, resends, refusals — and what reaches the outbox for each."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.operationoutcome import OperationOutcome

from libs.events.codec import encode
from libs.events.envelope import utc_now
from simulator import fhir_bundles as fhir
from tests.support.gateway import (
    DRUG,
    FHIR_FACILITY,
    FHIR_SYSTEM,
    basic,
    fhir_visit_bundle,
    national_id,
)

FHIR = {"Content-Type": "application/fhir+json"}
VISIT, PRESCRIPTION = "ingestion.visit.recorded.v1", "ingestion.prescription.issued.v1"


def post(client: TestClient, bundle: dict[str, Any], system: str = FHIR_SYSTEM) -> Any:
    return client.post("/fhir", json=bundle, headers={**FHIR, **basic(system)})


def test_a_batch_bundle_is_published_once_and_answered_entry_by_entry(gateway) -> None:
    client, harness = gateway
    bundle = fhir_visit_bundle("B-1", "FV-1", "FRX-1")
    answer = post(client, bundle)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/fhir+json")
    response = Bundle.model_validate(answer.json())
    assert response.type == "batch-response"
    statuses = [e.response.status for e in response.entry or [] if e.response is not None]
    assert statuses == ["200 OK", "202 Accepted", "202 Accepted"]

    (visit,) = harness.published(VISIT)
    (prescription,) = harness.published(PRESCRIPTION)
    assert visit.source == f"/his/{FHIR_FACILITY}" and prescription.data.visit_id == "FV-1"
    assert prescription.data.patient_pseudonym == visit.data.patient_pseudonym

    again = post(client, bundle)
    assert again.status_code == 200 and again.json() == answer.json()
    renamed = post(client, {**bundle, "identifier": {"value": "B-2"}})
    assert renamed.status_code == 200
    assert len(harness.published(VISIT)) == 1 and len(harness.published(PRESCRIPTION)) == 1


def test_a_transaction_with_a_bad_entry_publishes_nothing(gateway) -> None:
    client, harness = gateway
    bundle = fhir_visit_bundle("T-1", "FV-2", "FRX-2", kind="transaction")
    encounter = bundle["entry"][1]["resource"]
    encounter["status"] = "bogus"
    del encounter["period"]
    answer = post(client, bundle)
    assert answer.status_code == 422, answer.text
    outcome = OperationOutcome.model_validate(answer.json())
    where = {e for issue in outcome.issue for e in issue.expression or []}
    assert any("status" in str(w) for w in where), where
    assert any("period" in str(w) for w in where), where
    assert not harness.published(VISIT) and not harness.published(PRESCRIPTION)


def test_a_system_cannot_submit_for_another_facility(gateway) -> None:
    client, harness = gateway
    bundle = fhir_visit_bundle("T-2", "FV-3", "FRX-3", kind="transaction", facility="QS-T02")
    answer = post(client, bundle)
    assert answer.status_code == 403, answer.text
    assert answer.json()["resourceType"] == "OperationOutcome"
    assert not harness.published(VISIT)


def test_what_is_not_a_bundle_is_answered_with_an_operation_outcome(gateway) -> None:
    client, harness = gateway
    for body in (b"{not json", b'{"resourceType": "Patient"}', b'{"resourceType": "Bundle"}'):
        answer = client.post("/fhir", content=body, headers={**FHIR, **basic(FHIR_SYSTEM)})
        assert answer.status_code == 400, (body, answer.text)
        OperationOutcome.model_validate(answer.json())
    assert not harness.published(VISIT)


PRESCRIPTION_V2 = "ingestion.prescription.issued.v2"


def prescription_bundle(message_id: str, rx: str, prescriber: str | None) -> dict[str, Any]:
    """A patient born in 2016 with a recorded pregnancy status of "not pregnant" and a
    one-line prescription, by ``prescriber`` if given."""
    person = fhir.patient_entry(national_id(17), birth_date=date(2016, 5, 1))
    at = utc_now() - timedelta(minutes=5)
    status = fhir.pregnancy_status_entry(fhir.reference(person), False, at, rx)
    lines = [{"line_no": 1, "drug_code": DRUG, "quantity": 1, "unit_price": "4.2000"}]
    prescription = fhir.prescription_entries(
        prescription_id=rx, facility_id=FHIR_FACILITY, subject=fhir.reference(person),
        category="western", issued_at=at, lines=lines, prescriber_id=prescriber,
        total_amount=Decimal("4.20"),
    )  # fmt: skip
    return fhir.bundle("batch", message_id, [person, status, *prescription])


def test_a_prescription_with_its_requester_is_a_v2_with_the_patients_band(gateway) -> None:
    client, harness = gateway
    answer = post(client, prescription_bundle("B-V2", "FRX-V2", "S-T01-001"))
    assert answer.status_code == 200, answer.text
    statuses = [e["response"]["status"] for e in answer.json()["entry"]]
    assert statuses == ["200 OK", "200 OK", "202 Accepted"]  # patient and status: context
    (event,) = harness.published(PRESCRIPTION_V2)
    assert event.data.prescriber_id == "S-T01-001"
    assert (event.data.patient_age_band, event.data.pregnant) == ("child", False)
    assert b"2016-05-01" not in encode(event)  # the birth date never leaves the gateway
    assert not harness.published("ingestion.result.reported.v1")

    without = post(client, prescription_bundle("B-V1", "FRX-V1", None))
    assert without.status_code == 200, without.text
    (older,) = harness.published(PRESCRIPTION)
    assert older.data.prescription_id == "FRX-V1" and older.data.prescriber_id is None
