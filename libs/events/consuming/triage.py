"""Sorting a batch's records against what this consumer processed before: new, a copy, a
conflict, a replay of a dead letter, or behind a parked event.

``claim`` is looked up in this module when a batch is triaged, so that
tests/support/without_dedup.py can break deduplication on the event id by replacing it here.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from libs.events.consuming.handlers import HandlerRegistry
from libs.events.consuming.parking import park_key, parked_keys
from libs.events.consuming.processed import DEAD_LETTERED, claim, digests_of, outcomes_of
from libs.events.consuming.records import BatchRecord, BatchResult

__all__ = ["Triage", "triage"]


@dataclass
class Triage:
    """A batch's records sorted against what this consumer processed before."""

    #: What needs a claim, by claim key in record order: undecodable records by position,
    #: handled events by id (first copy only).
    to_claim: dict[str, BatchRecord]
    new: set[str]  # the claim keys first seen now
    #: What each key said when first processed: before, or first in this batch. A record of
    #: the key saying anything else is no copy (see BatchProcessor._refuse_conflicting).
    said: dict[str, str | None]
    reopened: set[str]  # keys dead-lettered before whose replay re-applies them now
    waiting: set[str]  # park keys with an event parked ahead of this batch's
    conflicting: list[BatchRecord]  # an id reused for other content

    def runs_handlers(self, key: str, item: BatchRecord) -> bool:
        """The record goes to its handlers (unless parked): new, or a dead letter replayed."""
        return item.event is not None and (key in self.new or key in self.reopened)


def triage(
    session: Session,
    consumer: str,
    handlers: HandlerRegistry,
    items: list[BatchRecord],
    result: BatchResult,
) -> Triage:
    """Claim the batch's records and sort them. Types this service does not handle are not
    recorded (only counted as ignored)."""
    to_claim: dict[str, BatchRecord] = {}
    copies: list[BatchRecord] = []  # later records of an id already in this batch
    for item in items:
        if item.event is None:
            to_claim.setdefault(item.position_key, item)
        elif not handlers.get(item.event.type):
            result.ignored.append(item.event.id)
        elif item.event.id in to_claim:
            copies.append(item)
        else:
            to_claim[item.event.id] = item
    new = claim(session, consumer, {k: item.digest for k, item in to_claim.items()})
    said = {key: item.digest for key, item in to_claim.items()}
    said |= digests_of(session, consumer, [k for k in to_claim if k not in new])
    conflicting = []
    for item in copies:
        assert item.event is not None
        if said[item.event.id] == item.digest:
            result.duplicates.append(item.event.id)
        else:
            conflicting.append(item)
    # A replayed dead letter re-applies an event this consumer dead-lettered before.
    replayed = [
        key
        for key, item in to_claim.items()
        if key not in new and item.event is not None and item.message.is_replay
    ]
    reopened = {
        key
        for key, outcome in outcomes_of(session, consumer, replayed).items()
        if outcome == DEAD_LETTERED
    }
    waiting = parked_keys(
        session, consumer, (park_key(i.message) for i in to_claim.values() if i.event)
    )
    return Triage(to_claim, new, said, reopened, waiting, conflicting)
