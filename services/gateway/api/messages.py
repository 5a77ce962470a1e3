"""``POST /messages`` and ``/messages/batch``: the catalogue's own JSON payloads."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from pydantic import ValidationError

from libs.platform.http.errors import ApiError
from services.gateway.api.dependencies import GatewayUowDep, MemberSystemDep
from services.gateway.api.schemas import (
    AcceptedOut,
    BatchIn,
    BatchOut,
    MessageIn,
    ProblemOut,
    ResultOut,
)
from services.gateway.domain.messages import Accepted, Message, Problem, Refused
from services.gateway.service_layer.ingest import Outcome, Replay, Request, message_digest, submit

router = APIRouter(prefix="/messages", tags=["ingestion (JSON)"])


@router.post(
    "",
    status_code=202,
    response_model=AcceptedOut,
    responses={403: {}, 409: {}, 422: {}, 429: {}},
    summary="Submit one message",
)
def submit_message(
    body: MessageIn, system: MemberSystemDep, uow: GatewayUowDep, response: Response
) -> Any:
    """Publish one fact (visit, prescription, order, result). The same ``message_id`` sent
    again returns the first answer and publishes nothing; with another body it is refused
    (409)."""
    message = Message(body.message_id, body.type, body.data, location="data")
    request = Request(body.message_id, message_digest(uow, message), [message])
    (done,) = submit(uow, system, [request], _answer)
    if isinstance(done, Replay):
        response.status_code = done.status
        response.headers["Idempotent-Replayed"] = "true"
        return done.answer
    outcome = done[0]
    if isinstance(outcome, Refused):
        raise _error(outcome)
    return _accepted(message, outcome)


@router.post(
    "/batch",
    status_code=202,
    response_model=BatchOut,
    responses={207: {"model": BatchOut}, 413: {}, 429: {}},
    summary="Submit several messages",
)
def submit_batch(
    body: BatchIn, system: MemberSystemDep, uow: GatewayUowDep, response: Response
) -> Any:
    """Each message is accepted or refused on its own (202 when all are accepted, else 207
    with each one's status), and each is idempotent on its own ``message_id``."""
    limit = uow.config.max_batch_messages
    if len(body.messages) > limit:
        raise ApiError(413, "payload_too_large", f"a batch holds at most {limit} messages")
    parsed = [_parsed(i, entry) for i, entry in enumerate(body.messages)]
    messages = [m for m in parsed if isinstance(m, Message)]
    requests = [Request(m.message_id, message_digest(uow, m), [m]) for m in messages]
    answers = iter(submit(uow, system, requests, _answer) if requests else [])
    results = [m if isinstance(m, ResultOut) else _result(m, next(answers)) for m in parsed]
    refused = sum(1 for r in results if r.status >= 400)
    if refused:
        response.status_code = 207
    return BatchOut(accepted=len(results) - refused, refused=refused, results=results)


def _parsed(index: int, entry: dict[str, Any]) -> Message | ResultOut:
    try:
        parsed = MessageIn.model_validate(entry)
    except ValidationError as exc:
        problems = [
            ProblemOut(
                code="schema_violation",
                message=str(e["msg"])[:300],
                location=".".join([f"messages[{index}]", *(str(p) for p in e["loc"])]),
            )
            for e in exc.errors(include_input=False, include_url=False, include_context=False)
        ]
        given = entry.get("message_id")
        return ResultOut(
            message_id=given if isinstance(given, str) else None,
            status=422,
            error="invalid_input",
            problems=problems,
        )
    return Message(parsed.message_id, parsed.type, parsed.data, location=f"messages[{index}].data")


def _answer(request: Request, outcomes: list[Outcome]) -> tuple[int, dict[str, Any]]:
    """The answer kept for a message id, replayed when it is sent again."""
    return 202, _accepted(request.messages[0], outcomes[0])


def _accepted(message: Message, outcome: Outcome) -> dict[str, Any]:
    if not isinstance(outcome, Accepted):
        raise TypeError("only an accepted message has an answer to keep")
    return AcceptedOut(
        message_id=message.message_id,
        event_id=outcome.event_id,
        event_type=outcome.event_type,
        replayed=outcome.replayed,
    ).model_dump()


def _result(message: Message, done: list[Outcome] | Replay) -> ResultOut:
    if isinstance(done, Replay):
        return ResultOut(status=done.status, **{**done.answer, "replayed": True})
    outcome = done[0]
    if isinstance(outcome, Accepted):
        return ResultOut(status=202, **_accepted(message, outcome))
    return ResultOut(
        message_id=message.message_id,
        status=outcome.status,
        error=_code(outcome),
        problems=[_problem(p) for p in outcome.problems],
    )


def _problem(problem: Problem) -> ProblemOut:
    return ProblemOut(code=problem.code, message=problem.message, location=problem.location)


def _code(refusal: Refused) -> str:
    return {403: "forbidden", 409: "conflict"}.get(refusal.status, "invalid_input")


def _error(refusal: Refused) -> ApiError:
    summary = "; ".join(p.message for p in refusal.problems[:3])
    return ApiError(
        refusal.status,
        _code(refusal),
        summary or "the message was refused",
        details={"problems": [_problem(p).model_dump() for p in refusal.problems]},
    )
