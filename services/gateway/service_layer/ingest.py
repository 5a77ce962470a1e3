"""Accepting members' messages: each one prepared by the edge's rules, checked as every
consumer will check it, deduplicated, and staged in the outbox with the record of it, in one
transaction.

Two kinds of resend are answered with the first answer and publish nothing: the same message
id (a system's interface engine retrying), and the same fact under a new message id (a
hospital system resending a visit). The same message id or fact with different content is
refused (409): the catalogue has no correction for an ingestion fact, and a consumer would
otherwise drop it silently as a duplicate.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from libs.events.admission import admit_record
from libs.events.codec import PermanentDecodeError, encode, headers_for
from libs.events.consuming.processed import fact_digest
from libs.events.envelope import CloudEvent, new_event
from libs.events.outbox.staging import stage_record
from libs.events.payload import Payload
from libs.events.provenance import source_for
from libs.events.registry import registry
from services.gateway.domain.messages import Accepted, Message, Problem, Refused
from services.gateway.domain.preparation import prepare
from services.gateway.domain.systems import SystemRules
from services.gateway.service_layer.feed_accounting import account_for
from services.gateway.service_layer.unit_of_work import GatewayUnitOfWork

__all__ = ["Outcome", "Replay", "message_digest", "submit"]

Outcome = Accepted | Refused
#: Builds the answer kept for a request's message id: (HTTP status, JSON body).
Answer = Callable[["Request", list[Outcome]], tuple[int, dict[str, Any]]]


@dataclass(frozen=True)
class Replay:
    """The answer first given under a message id, given again."""

    status: int
    answer: dict[str, Any]


@dataclass(frozen=True)
class Request:
    """What a member sent under one message id: a JSON message, or a FHIR bundle."""

    message_id: str
    body_digest: str
    messages: Sequence[Message]
    all_or_nothing: bool = False


def message_digest(uow: GatewayUnitOfWork, message: Message) -> str:
    canonical = json.dumps(
        {"type": message.event_type, "data": message.fields}, sort_keys=True, default=str
    )
    return uow.config.digest(canonical.encode("utf-8"))


def submit(
    uow: GatewayUnitOfWork, system: SystemRules, requests: Sequence[Request], answer: Answer
) -> list[list[Outcome] | Replay]:
    """Apply ``requests`` from ``system`` in one transaction (opened and committed here):
    for each, its outcomes, or the answer first given under its message id."""
    now = uow.config.now()
    with uow:
        results = [_request(uow, system, request, answer, now) for request in requests]
        outcomes = [o for result in results if isinstance(result, list) for o in result]
        account_for(uow, system, outcomes, now=now)
        uow.commit()
    return results


def _request(
    uow: GatewayUnitOfWork, system: SystemRules, request: Request, answer: Answer, now: datetime
) -> list[Outcome] | Replay:
    earlier = uow.ledger.submission(system.system_id, request.message_id)
    if earlier is not None:
        if earlier.body_digest != request.body_digest:
            return [_reused(request)]
        return Replay(earlier.status, earlier.answer)
    whole = uow.session.begin_nested() if request.all_or_nothing else None
    outcomes = [_in_savepoint(uow, system, m, now) for m in request.messages]
    if whole is not None:
        if any(isinstance(o, Refused) for o in outcomes):
            whole.rollback()
            return [o if isinstance(o, Refused) else _not_applied() for o in outcomes]
        whole.commit()
    if any(isinstance(o, Accepted) for o in outcomes):
        status, body = answer(request, outcomes)
        uow.ledger.record_submission(
            system.system_id,
            request.message_id,
            body_digest=request.body_digest,
            status=status,
            answer=body,
            at=now,
        )
    return outcomes


def _in_savepoint(
    uow: GatewayUnitOfWork, system: SystemRules, message: Message, now: datetime
) -> Outcome:
    """One message, applied wholly or not at all; a fact another request is recording at
    the same moment is read again once that one has committed."""
    for attempt in (1, 2):
        savepoint = uow.session.begin_nested()
        try:
            accepted = accept(uow, system, message, now)
        except Refused as refusal:
            savepoint.rollback()
            return refusal
        except IntegrityError:
            savepoint.rollback()
            if attempt == 2:
                raise
            continue
        savepoint.commit()
        return accepted
    raise AssertionError("unreachable")


def accept(
    uow: GatewayUnitOfWork, system: SystemRules, message: Message, now: datetime
) -> Accepted:
    """Publish ``message`` from ``system`` (in the open transaction), or :class:`Refused`."""
    tier = uow.facility_tier(system.facility_id)
    payload = prepare(message, system, facility_tier=tier, pseudonymise=uow.config.pseudonym)
    event, raw = _admitted(payload, message, uow.correlation_id, now)
    spec = registry.by_type(event.type)
    fact = spec.fact_of(payload) or f"{event.type}:{event.id}"
    # A prescription's .v1 and .v2 are one fact: compared by what both versions say.
    digest = fact_digest(event)
    earlier = uow.ledger.fact(fact)
    if earlier is not None:
        if earlier.content_digest == digest:
            return Accepted(earlier.event_id, event.type, replayed=True)
        raise Refused(409, [_changed_fact(fact, message)])
    stage_record(
        uow.session,
        topic=event.topic,
        key=event.key.encode("utf-8"),
        value=raw,
        headers=headers_for(event),
        event_id=event.id,
        event_type=event.type,
    )
    uow.note_staged()
    uow.ledger.record_fact(
        fact, event_id=event.id, content_digest=digest, system_id=system.system_id, at=now
    )
    return Accepted(event.id, event.type)


def _admitted(
    payload: Payload, message: Message, correlation_id: str | None, now: datetime
) -> tuple[CloudEvent[Payload], bytes]:
    """The event for ``payload`` in the member's name, and its bytes, if every consumer will
    accept them (the one validator both ingestion paths share)."""
    spec = registry.for_payload(payload)
    subject = spec.key_of(payload)
    when = getattr(payload, spec.time_field) if spec.time_field else None
    event = new_event(
        payload,
        source=source_for(spec.type, subject),
        time=when,
        correlation_id=correlation_id,
    )
    raw = encode(event)
    try:
        admit_record(raw, subject.encode("utf-8"), topic=spec.topic, now=now)
    except PermanentDecodeError as exc:
        raise Refused(422, [Problem(exc.reason, exc.detail, message.location or None)]) from None
    return event, raw


def _changed_fact(fact: str, message: Message) -> Problem:
    return Problem(
        "conflict",
        f"{fact} was already accepted with other content; an ingestion fact cannot be "
        "corrected by sending it again",
        message.location or None,
    )


def _reused(request: Request) -> Refused:
    return Refused(
        409,
        [
            Problem(
                "idempotency_key_reused",
                f"message id {request.message_id[:200]!r} was already used for another message",
                "message_id",
            )
        ],
    )


def _not_applied() -> Refused:
    return Refused(
        409,
        [Problem("not_applied", "not applied: another entry of the transaction was refused")],
    )
