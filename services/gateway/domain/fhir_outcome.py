"""Outcomes back to the member's system in FHIR R4: an OperationOutcome for problems, and
the ``batch-response`` / ``transaction-response`` Bundle with one entry per request entry.

Per entry: ``202 Accepted`` with the event id as ``response.etag`` (``W/"<event id>"``) and,
for a replay, an information issue saying nothing new was published; ``4xx`` with an
OperationOutcome when refused; ``200 OK`` for Patient entries (context, never published);
``424 Failed Dependency`` for an entry that was not processed because another one failed.
"""

from __future__ import annotations

from typing import Any

from services.gateway.domain.fhir_bundle import Translation
from services.gateway.domain.messages import Accepted, Problem

__all__ = ["ISSUE_TYPE", "operation_outcome", "response_bundle", "status_of"]

Json = dict[str, Any]

#: Problem.code → FHIR issue type (http://hl7.org/fhir/issue-type).
ISSUE_TYPE: dict[str, str] = {
    "required": "required",
    "invalid": "invalid",
    "structure": "structure",
    "value": "value",
    "code_invalid": "code-invalid",
    "not_supported": "not-supported",
    "not_found": "not-found",
    "forbidden": "forbidden",
    "security": "security",
    "conflict": "conflict",
    "duplicate": "duplicate",
    "too_costly": "too-costly",
    "too_many": "too-costly",
    "schema_violation": "invariant",
    "business_rule": "business-rule",
    "not_processed": "processing",
}
_STATUS = (
    ({"security"}, "401 Unauthorized"),
    ({"forbidden"}, "403 Forbidden"),
    ({"structure"}, "400 Bad Request"),
    ({"too_costly", "too_many"}, "413 Payload Too Large"),
    ({"conflict", "duplicate"}, "409 Conflict"),
    ({"not_processed"}, "424 Failed Dependency"),
)
_UNPROCESSABLE = "422 Unprocessable Entity"
_NOT_PROCESSED = Problem("not_processed", "not processed: another entry was refused")


def _issue(problem: Problem) -> Json:
    issue: Json = {
        "severity": "error",
        "code": ISSUE_TYPE.get(problem.code, "processing"),
        "diagnostics": problem.message,
    }
    if problem.location:
        issue["expression"] = [problem.location]
    return issue


def operation_outcome(problems: list[Problem]) -> Json:
    """An OperationOutcome with one error issue per problem."""
    issues = [_issue(problem) for problem in problems] or [
        {"severity": "information", "code": "informational", "diagnostics": "no problems"}
    ]
    return {"resourceType": "OperationOutcome", "issue": issues}


def status_of(problems: list[Problem]) -> str:
    """The HTTP status of a refusal: the first rule that matches one of the problems."""
    codes = {problem.code for problem in problems}
    for matching, status in _STATUS:
        if codes & matching:
            return status
    return _UNPROCESSABLE


def _accepted(accepted: Accepted) -> Json:
    response: Json = {"status": "202 Accepted", "etag": f'W/"{accepted.event_id}"'}
    if accepted.replayed:
        message = "already accepted: this is a replay, nothing new was published"
        issue = {"severity": "information", "code": "informational", "diagnostics": message}
        response["outcome"] = {"resourceType": "OperationOutcome", "issue": [issue]}
    return {"response": response}


def _refused(problems: list[Problem]) -> Json:
    return {"response": {"status": status_of(problems), "outcome": operation_outcome(problems)}}


def response_bundle(
    translation: Translation,
    outcomes: dict[int, Accepted | list[Problem]],
    *,
    entry_count: int,
) -> Json:
    """The response Bundle: ``outcomes`` by unit index; a unit without one is refused by
    its own problems, or reported not processed (a transaction another unit failed)."""
    entries: list[Json | None] = [None] * entry_count
    for index in translation.context_entries:
        entries[index] = {"response": {"status": "200 OK"}}
    for number, unit in enumerate(translation.units):
        outcome = outcomes.get(number, unit.problems or [_NOT_PROCESSED])
        for index in unit.entries:  # one dict per entry: a caller may amend one
            entries[index] = (
                _accepted(outcome) if isinstance(outcome, Accepted) else _refused(outcome)
            )
    fallback = _refused(translation.problems or [_NOT_PROCESSED])
    kind = translation.kind or "batch"
    return {
        "resourceType": "Bundle",
        "type": f"{kind}-response",
        "entry": [fallback if entry is None else entry for entry in entries],
    }
