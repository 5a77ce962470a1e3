"""``POST /fhir``: FHIR R4 transaction and batch Bundles from members' HIS, LIS and PACS.

A transaction is all or nothing: one refused entry refuses the bundle, answered with an
OperationOutcome naming every problem. A batch is answered entry by entry in a
``batch-response`` Bundle (``202 Accepted`` with the event id as the entry's ETag, or the
entry's status with an OperationOutcome). The profile: docs/gateway.md.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from services.gateway.api.dependencies import GatewayUowDep, MemberSystemDep
from services.gateway.domain.fhir_bundle import Translation, translate_bundle
from services.gateway.domain.fhir_outcome import operation_outcome, response_bundle
from services.gateway.domain.messages import Accepted, Problem, Refused
from services.gateway.domain.systems import SystemRules
from services.gateway.service_layer import ingest
from services.gateway.service_layer.feed_accounting import note_refused
from services.gateway.service_layer.unit_of_work import GatewayUnitOfWork

router = APIRouter(prefix="/fhir", tags=["ingestion (FHIR R4)"])

FHIR_JSON = "application/fhir+json"
_BODY = {
    "requestBody": {
        "required": True,
        "content": {FHIR_JSON: {"schema": {"type": "object"}}, "application/json": {
            "schema": {"type": "object"}}},
    }
}  # fmt: skip


def fhir_response(status: int, body: dict[str, Any], **headers: str) -> JSONResponse:
    return JSONResponse(body, status_code=status, media_type=FHIR_JSON, headers=headers or None)


def refusal(status: int, problems: list[Problem]) -> JSONResponse:
    return fhir_response(status, operation_outcome(problems))


@router.post(
    "",
    summary="Submit a FHIR R4 transaction or batch Bundle",
    openapi_extra=_BODY,
    responses={200: {"description": "A transaction-response or batch-response Bundle."}},
)
async def submit_bundle(
    request: Request, system: MemberSystemDep, uow: GatewayUowDep
) -> JSONResponse:
    """Encounters, MedicationRequests, ServiceRequests and DiagnosticReports (with their
    Observations), the patient as a Patient entry with the resident identity number."""
    raw = await request.body()
    try:
        document = json.loads(raw)
    except (ValueError, RecursionError):
        problem = Problem("structure", "the body is not JSON: send a FHIR R4 Bundle", "Bundle")
        await run_in_threadpool(note_refused, uow, system, [Refused(400, [problem])])
        return refusal(400, [problem])
    return await run_in_threadpool(_apply, uow, system, document)


def _apply(uow: GatewayUnitOfWork, system: SystemRules, document: Any) -> JSONResponse:
    translation = translate_bundle(document, uow.config.profile)
    limit = uow.config.max_batch_messages
    if translation.problems or translation.message_id is None:
        problems = translation.problems or [
            Problem("required", "Bundle.identifier is required: the message id", "Bundle")
        ]
        note_refused(uow, system, [Refused(400, problems)])
        return refusal(400, problems)
    if len(translation.units) > limit:
        problem = Problem("too_costly", f"a bundle holds at most {limit} facts", "Bundle.entry")
        note_refused(uow, system, [Refused(413, [problem])])
        return refusal(413, [problem])
    broken = [p for unit in translation.units for p in unit.problems]
    if translation.kind == "transaction" and broken:
        note_refused(uow, system, [Refused(422, broken)])
        return refusal(422, broken)
    return _submitted(uow, system, translation, document)


def _submitted(
    uow: GatewayUnitOfWork, system: SystemRules, translation: Translation, document: Any
) -> JSONResponse:
    sendable = [i for i, unit in enumerate(translation.units) if unit.message is not None]
    canonical = json.dumps(document, sort_keys=True, ensure_ascii=False).encode("utf-8")
    request = ingest.Request(
        message_id=str(translation.message_id),
        body_digest=uow.config.digest(canonical),
        messages=[m for i in sendable if (m := translation.units[i].message) is not None],
        all_or_nothing=translation.kind == "transaction",
    )

    def outcomes_by_unit(outcomes: list[ingest.Outcome]) -> dict[int, Accepted | list[Problem]]:
        found: dict[int, Accepted | list[Problem]] = {
            i: unit.problems for i, unit in enumerate(translation.units) if unit.message is None
        }
        for index, outcome in zip(sendable, outcomes, strict=True):
            found[index] = outcome if isinstance(outcome, Accepted) else outcome.problems
        return found

    def answer(_: ingest.Request, outcomes: list[ingest.Outcome]) -> tuple[int, dict[str, Any]]:
        return 200, response_bundle(
            translation, outcomes_by_unit(outcomes), entry_count=_entry_count(translation)
        )

    if len(sendable) < len(translation.units):
        note_refused(
            uow, system, [Refused(422, u.problems) for u in translation.units if u.problems]
        )
    (done,) = ingest.submit(uow, system, [request], answer) if sendable else ([],)
    if isinstance(done, ingest.Replay):
        return fhir_response(done.status, done.answer, **{"Idempotent-Replayed": "true"})
    refused = [o for o in done if isinstance(o, Refused)]
    if translation.kind == "transaction" and refused:
        status = 403 if any(o.status == 403 for o in refused) else max(o.status for o in refused)
        real = [p for o in refused for p in o.problems if p.code != "not_applied"]
        return refusal(status, real)
    if len(refused) == 1 and refused[0].problems[0].code == "idempotency_key_reused":
        return refusal(409, refused[0].problems)
    return fhir_response(*answer(request, done))


def _entry_count(translation: Translation) -> int:
    indexes = [i for unit in translation.units for i in unit.entries]
    return max([*indexes, *translation.context_entries], default=-1) + 1
