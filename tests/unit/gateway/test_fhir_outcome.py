"""Outcomes back to the member in FHIR R4 (services/gateway/domain/fhir_outcome.py): every
response must parse as an R4B resource."""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.operationoutcome import OperationOutcome

from services.gateway.domain.fhir_outcome import operation_outcome, response_bundle, status_of
from services.gateway.domain.messages import Accepted, Problem
from tests.unit.gateway.test_fhir_bundle import NID, full_bundle, translate

PROBLEMS = [
    Problem("required", "is required (visit_id)", "Bundle.entry[1].resource.identifier"),
    Problem("code_invalid", "must be transaction or batch", "Bundle.type"),
    Problem("not_supported", "an entry without a resource", "Bundle.entry[3].resource"),
    Problem("forbidden", "not a facility of this member"),
    Problem("schema_violation", "eligible_amount cannot exceed total_amount", "x"),
    Problem("something_new", "a code the table does not know", "y"),
]


def test_an_operation_outcome_has_one_issue_per_problem() -> None:
    outcome = operation_outcome(PROBLEMS)
    OperationOutcome.model_validate(outcome)
    assert [issue["code"] for issue in outcome["issue"]] == [
        "required",
        "code-invalid",
        "not-supported",
        "forbidden",
        "invariant",
        "processing",
    ]
    assert {issue["severity"] for issue in outcome["issue"]} == {"error"}
    assert outcome["issue"][0]["expression"] == ["Bundle.entry[1].resource.identifier"]
    assert outcome["issue"][0]["diagnostics"] == "is required (visit_id)"
    assert "expression" not in outcome["issue"][3]


def test_an_empty_outcome_is_still_valid() -> None:
    OperationOutcome.model_validate(operation_outcome([]))


def test_statuses_of_refusals() -> None:
    assert status_of([Problem("required", "m")]) == "422 Unprocessable Entity"
    assert status_of([Problem("required", "m"), Problem("forbidden", "m")]) == "403 Forbidden"
    assert status_of([Problem("structure", "m")]) == "400 Bad Request"
    assert status_of([Problem("conflict", "m")]) == "409 Conflict"


def responses(document: dict[str, Any], outcomes: dict[int, Any]) -> dict[str, Any]:
    translation = translate(document)
    response = response_bundle(translation, outcomes, entry_count=len(document["entry"]))
    Bundle.model_validate(response)
    return response


def test_a_batch_response_has_one_entry_per_request_entry() -> None:
    document = full_bundle()
    del document["entry"][5]["resource"]["code"]  # the order is refused
    outcomes: dict[int, Any] = {
        0: Accepted("ev-visit", "ingestion.visit.recorded.v1"),
        1: Accepted("ev-rx", "ingestion.prescription.issued.v1", replayed=True),
        3: [Problem("forbidden", "not a facility of this member", "Bundle.entry[6].resource")],
    }
    response = responses(document, outcomes)
    assert response["type"] == "batch-response"
    statuses = [entry["response"]["status"] for entry in response["entry"]]
    assert statuses == [
        "200 OK",
        "202 Accepted",
        *["202 Accepted"] * 3,
        "422 Unprocessable Entity",
        *["403 Forbidden"] * 3,
    ]
    assert response["entry"][1]["response"]["etag"] == 'W/"ev-visit"'
    assert "outcome" not in response["entry"][1]["response"]
    replay = response["entry"][2]["response"]
    assert replay["etag"] == 'W/"ev-rx"'
    assert replay["outcome"]["issue"][0]["severity"] == "information"
    refused = response["entry"][5]["response"]["outcome"]["issue"]
    assert refused[0]["expression"] == ["Bundle.entry[5].resource.code.coding[0].code"]
    assert NID not in str(response)


def test_a_transaction_response_reports_what_was_not_processed() -> None:
    document = full_bundle("transaction")
    del document["entry"][5]["resource"]["code"]
    response = responses(document, {})
    assert response["type"] == "transaction-response"
    statuses = {entry["response"]["status"] for entry in response["entry"][1:]}
    assert statuses == {"424 Failed Dependency", "422 Unprocessable Entity"}


def test_a_refused_bundle_answers_every_entry() -> None:
    document = full_bundle()
    document["type"] = "collection"
    response = responses(document, {})
    assert len(response["entry"]) == len(document["entry"])
    issue = response["entry"][0]["response"]["outcome"]["issue"][0]
    assert issue["code"] == "code-invalid"
    assert issue["expression"] == ["Bundle.type"]
