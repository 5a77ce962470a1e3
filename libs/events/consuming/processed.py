"""The processed-events table: which events a consumer has applied, and what they said.

Claiming ids is one ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` per batch, inside the
batch's transaction: the ids it returns are new, every other id was applied before. Each
claim keeps a digest of the event's content, so that an id arriving again with other
content can be told from a redelivery (:func:`digests_of`).

Events of types whose catalogue entry names their fact (``EventSpec.identity``: a visit by
its facility and visit id) are also claimed by that fact (:func:`claim_fact`), so the same
visit resent under a new event id is recognised too.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from libs.events.envelope import CloudEvent, utc_now
from libs.events.payload import Payload
from libs.events.registry import registry
from libs.events.tables import ProcessedEvent, ProcessedFact

__all__ = [
    "APPLIED",
    "DEAD_LETTERED",
    "claim",
    "claim_fact",
    "claim_facts",
    "claimed_facts",
    "content_digest",
    "digests_of",
    "fact_digest",
    "outcomes_of",
    "prune",
    "set_outcome",
]

APPLIED = "applied"
DEAD_LETTERED = "dead_lettered"


def content_digest(event: CloudEvent[Payload]) -> str:
    """SHA-256 of what ``event`` says: its type, subject and data, in a canonical form (the
    envelope's time and the producer's serialisation may differ between honest resends)."""
    return _digest(event.type, event.subject, event.data.model_dump(mode="json"))


def fact_digest(event: CloudEvent[Payload]) -> str:
    """SHA-256 of what ``event`` says of its fact, in the words of the fact's first version
    (``EventSpec.fact_type``): a prescription sent as ``.v1`` and again as ``.v2`` with the
    same ``.v1`` fields is a resend, not a conflict, whichever came first. What only a later
    version says (an age band) takes no part. For a first version it is
    :func:`content_digest`, so fact claims stored before a ``.v2`` existed still compare."""
    spec = registry.by_type(event.type)
    if spec.fact_type == spec.type or spec.fact_type not in registry:
        return content_digest(event)
    fields = set(registry.by_type(spec.fact_type).payload.model_fields)
    data = event.data.model_dump(mode="json", include=fields)
    return _digest(spec.fact_type, event.subject, data)


def _digest(type_name: str, subject: str | None, data: dict[str, object]) -> str:
    body = {"type": type_name, "subject": subject, "data": data}
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def claim(
    session: Session, consumer: str, event_ids: Iterable[str] | Mapping[str, str | None]
) -> set[str]:
    """Record ``event_ids`` as processed by ``consumer``; returns the ids that were new.

    ``event_ids`` must be distinct: a duplicate within one statement would be claimed once
    but applied twice by a caller that trusts the input order. A mapping gives each id's
    :func:`content_digest` to keep.
    """
    digests = dict(event_ids) if isinstance(event_ids, Mapping) else dict.fromkeys(event_ids)
    ids = list(event_ids)
    if not ids:
        return set()
    if len(ids) != len(set(ids)):
        raise ValueError("claim() needs distinct event ids")
    now = utc_now()
    rows = [
        {
            "consumer": consumer,
            "event_id": event_id,
            "outcome": APPLIED,
            "processed_at": now,
            "content_digest": digests[event_id],
        }
        for event_id in ids
    ]
    claimed = _insert_new(session, ProcessedEvent, rows, ["consumer", "event_id"])
    return {str(row["event_id"]) for row in claimed}


def _insert_new(
    session: Session,
    table: type[ProcessedEvent] | type[ProcessedFact],
    rows: list[dict[str, object]],
    keys: list[str],
) -> list[dict[str, object]]:
    """``INSERT ... ON CONFLICT DO NOTHING RETURNING``: the rows that were new."""
    dialect = session.get_bind().dialect.name
    columns = [getattr(table, k) for k in keys]
    if dialect == "postgresql":
        pg = postgresql.insert(table).values(rows).on_conflict_do_nothing(index_elements=keys)
        inserted = session.execute(pg.returning(*columns))
    elif dialect == "sqlite":
        lite = sqlite.insert(table).values(rows).on_conflict_do_nothing(index_elements=keys)
        inserted = session.execute(lite.returning(*columns))
    else:
        raise NotImplementedError(f"processed claims are not implemented for {dialect}")
    return [dict(row._mapping) for row in inserted]


def claim_fact(
    session: Session, consumer: str, fact: str, event_id: str, digest: str
) -> tuple[str, str] | None:
    """Record that ``consumer`` applies ``fact`` (``EventSpec.fact_of``) from ``event_id``;
    ``None`` if the fact is new, else the event id and content digest it was applied from.

    Called inside the event's savepoint: if the event is then dead-lettered or parked, the
    claim is rolled back with its effects, and a later resend of the fact is applied."""
    row = {
        "consumer": consumer,
        "fact": fact,
        "event_id": event_id,
        "content_digest": digest,
        "processed_at": utc_now(),
    }
    if _insert_new(session, ProcessedFact, [row], ["consumer", "fact"]):
        return None
    earlier = session.execute(
        select(ProcessedFact.event_id, ProcessedFact.content_digest).where(
            ProcessedFact.consumer == consumer, ProcessedFact.fact == fact
        )
    ).one()
    return earlier.event_id, earlier.content_digest


def claimed_facts(
    session: Session, consumer: str, facts: Iterable[str]
) -> dict[str, tuple[str, str]]:
    """The event id and content digest each of ``facts`` was applied from, for those
    ``consumer`` applied before (a set of records looks them up in one query)."""
    wanted = sorted(set(facts))
    if not wanted:
        return {}
    rows = session.execute(
        select(ProcessedFact.fact, ProcessedFact.event_id, ProcessedFact.content_digest).where(
            ProcessedFact.consumer == consumer, ProcessedFact.fact.in_(wanted)
        )
    )
    return {row.fact: (row.event_id, row.content_digest) for row in rows}


def claim_facts(session: Session, consumer: str, facts: Mapping[str, tuple[str, str]]) -> None:
    """Record ``facts`` (fact → event id, digest), none of them claimed before: a fact
    claimed meanwhile (by another process of the consumer) raises, so the set is applied
    again record by record, where :func:`claim_fact` decides."""
    if not facts:
        return
    now = utc_now()
    rows: list[dict[str, object]] = [
        {
            "consumer": consumer,
            "fact": fact,
            "event_id": event_id,
            "content_digest": digest,
            "processed_at": now,
        }
        for fact, (event_id, digest) in facts.items()
    ]
    if len(_insert_new(session, ProcessedFact, rows, ["consumer", "fact"])) != len(rows):
        raise FactClaimedMeanwhile(f"{consumer}: a fact of the set was claimed meanwhile")


class FactClaimedMeanwhile(Exception):
    """Another process claimed a fact of a set between the look-up and the claim."""


def outcomes_of(session: Session, consumer: str, event_ids: Iterable[str]) -> dict[str, str]:
    """The recorded outcome of each of ``event_ids`` that ``consumer`` has processed."""
    ids = list(event_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(ProcessedEvent.event_id, ProcessedEvent.outcome).where(
            ProcessedEvent.consumer == consumer, ProcessedEvent.event_id.in_(ids)
        )
    )
    return {event_id: outcome for event_id, outcome in rows}


def digests_of(session: Session, consumer: str, event_ids: Iterable[str]) -> dict[str, str]:
    """The content digest kept for each of ``event_ids`` (those claimed with one)."""
    ids = list(event_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(ProcessedEvent.event_id, ProcessedEvent.content_digest).where(
            ProcessedEvent.consumer == consumer,
            ProcessedEvent.event_id.in_(ids),
            ProcessedEvent.content_digest.is_not(None),
        )
    )
    return {event_id: digest for event_id, digest in rows if digest is not None}


def set_outcome(
    session: Session, consumer: str, event_id: str, outcome: str, digest: str | None = None
) -> None:
    """Record how ``event_id`` ended; ``digest`` replaces the kept content digest (a replay
    may carry a corrected event under the same id)."""
    values: dict[str, object] = {"outcome": outcome, "processed_at": utc_now()}
    if digest is not None:
        values["content_digest"] = digest
    session.execute(
        update(ProcessedEvent)
        .where(ProcessedEvent.consumer == consumer, ProcessedEvent.event_id == event_id)
        .values(**values)
    )


def prune(
    session: Session,
    older_than: timedelta,
    facts_older_than: timedelta,
    now: datetime | None = None,
) -> int:
    """Forget event claims older than any redelivery could be, and fact claims older than
    any resend by a hospital system could be (the worker keeps 30 and 400 days)."""
    now = now or utc_now()
    removed = 0
    for table, older in ((ProcessedEvent, older_than), (ProcessedFact, facts_older_than)):
        result = session.execute(delete(table).where(table.processed_at < now - older))
        removed += int(getattr(result, "rowcount", 0) or 0)
    return removed
