"""A run of new records of one type with a set handler, applied together (see ``sets.py``).

The facts the records state (``EventSpec.identity``) are looked up in one query and claimed
in one statement after the handler, for the records it applied: a resend under a new id is
a duplicate and never reaches the handler, another content for a fact applied before is a
``conflicting_fact`` — the same decisions :class:`~.handling.EventHandling` takes for one
record. Anything this cannot decide the way the per-record path would (a refused record
whose fact a later record of the set repeats) raises, and the caller goes record by record.

``claimed_facts`` and ``claim_facts`` are looked up in this module when a set is applied,
so that tests/support/without_dedup.py can break fact deduplication here too.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from libs.events.consuming.processed import claim_facts, claimed_facts
from libs.events.consuming.records import BatchRecord
from libs.events.consuming.sets import RecordSet, SetHandler
from libs.events.metrics import DeliveryMetrics
from libs.events.registry import registry
from libs.events.unit_of_work import UnitOfWork

__all__ = ["SetOutcome", "apply_set"]


class SetNeedsRecordByRecord(Exception):
    """The set holds what only the per-record path decides correctly."""


@dataclass
class SetOutcome:
    """What became of each record of a set, by claim key."""

    applied: list[str] = field(default_factory=list)
    same_fact: list[str] = field(default_factory=list)
    #: (key, reason, detail) of records to dead-letter: refused, or a conflicting fact.
    refused: list[tuple[str, str, str]] = field(default_factory=list)


def apply_set(
    uow: UnitOfWork,
    consumer: str,
    handler: SetHandler,
    group: list[tuple[str, BatchRecord]],
    metrics: DeliveryMetrics,
) -> SetOutcome:
    """Run ``handler`` over the records of ``group`` that state a new fact (or none).
    Raises whatever the handler raises; the caller's savepoint then rolls everything back."""
    started = time.perf_counter()
    outcome = SetOutcome()
    facts = {key: _fact_of(item) for key, item in group}
    earlier = claimed_facts(uow.session, consumer, [f for f in facts.values() if f])
    fresh: list[tuple[str, BatchRecord]] = []
    for key, item in group:
        fact = facts[key]
        before = earlier.get(fact) if fact else None
        if fact and before is not None:
            _judge_repeat(outcome, key, item, fact, before)
            continue
        if fact:  # a later record of the same fact in this set is a repeat of this one
            earlier[fact] = (_event_id(item), item.fact_digest or "")
        fresh.append((key, item))
    records: RecordSet = RecordSet(uow, [item.event for _, item in fresh if item.event])
    handler(records, uow)
    claims: dict[str, tuple[str, str]] = {}
    for index, (key, item) in enumerate(fresh):
        refusal = records.refused.get(index)
        if refusal is None:
            outcome.applied.append(key)
            if facts[key]:
                claims[str(facts[key])] = (_event_id(item), item.fact_digest or "")
        elif facts[key] and _repeated_later(facts[key], key, group):
            raise SetNeedsRecordByRecord("a refused record's fact comes again in the set")
        else:
            outcome.refused.append((key, refusal.reason, refusal.detail))
    claim_facts(uow.session, consumer, claims)
    _observe(metrics, group, time.perf_counter() - started)
    return outcome


def _fact_of(item: BatchRecord) -> str | None:
    assert item.event is not None
    return registry.by_type(item.event.type).fact_of(item.event.data)


def _event_id(item: BatchRecord) -> str:
    assert item.event is not None
    return item.event.id


def _judge_repeat(
    outcome: SetOutcome, key: str, item: BatchRecord, fact: str, before: tuple[str, str]
) -> None:
    """The fact was applied before (or earlier in this set): a resend, or a conflict."""
    if before[1] == item.fact_digest:
        outcome.same_fact.append(key)
        return
    detail = f"{fact} was applied from event {before[0]} with other content; "
    detail += "a correction is a new fact, not a resend"
    outcome.refused.append((key, "conflicting_fact", detail))


def _repeated_later(fact: str | None, key: str, group: list[tuple[str, BatchRecord]]) -> bool:
    keys = [k for k, _ in group]
    return any(_fact_of(item) == fact for _, item in group[keys.index(key) + 1 :])


def _observe(metrics: DeliveryMetrics, group: list[tuple[str, BatchRecord]], took: float) -> None:
    """Each record's share of the set's time, so per-type handling figures stay comparable."""
    share = took / max(1, len(group))
    for _, item in group:
        assert item.event is not None
        metrics.event_handle_seconds.labels(item.event.type).observe(share)
