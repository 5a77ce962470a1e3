"""Posting a set of records at once: the records of one type in a consumed batch (hundreds of
dispensings a second at the province's peak) become the same journal entries, lines and
announcements as posted one at a time (``ledger.post``), in a handful of statements per
set instead of several per record.

Load → decide → save → publish, set-wise:

- load the member facilities the set names, in one query;
- decide each record's entry in the pure domain. A record naming a facility the
  organisation has closed is refused: dead-lettered alone, nothing written for it. One
  naming a facility this copy has never heard of raises instead, failing the set: the copy
  may only lag, and only the per-record path the set then falls back to parks the record
  (and every later event of its key) until the copy catches up;
- find which causes were posted before, in one query over the set's source keys; a cause
  repeated within the set posts once, as it would one record at a time;
- lock the posting period of each month posted in once;
- write every entry, and every line, in one statement each; then announce each entry in
  record order, each naming its own record as its cause, and count it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from libs.events import CloudEvent, Payload, PermanentError
from libs.events.consuming.sets import RecordSet
from libs.events.retry import NotYetKnown
from services.finance.domain.journal import EntryDraft, PostedEntry
from services.finance.domain.periods import period_of
from services.finance.service_layer.ledger import (
    Booking,
    PostingPeriod,
    journal_lines,
    posting_period,
)
from services.finance.service_layer.unit_of_work import FinanceUnitOfWork

__all__ = ["Cause", "post_each"]

P = TypeVar("P", bound=Payload)


@dataclass(frozen=True)
class Cause:
    """What one record would post: its source key (each cause posts once), its entry
    (``None`` when nothing is left to post, e.g. amounts of zero) and when it happened."""

    source_key: str
    entry: EntryDraft | None
    occurred_at: datetime


@dataclass(frozen=True)
class _Decided:
    event: CloudEvent[Payload]
    cause: Cause
    period: str


def post_each(
    uow: FinanceUnitOfWork,
    records: RecordSet[P],
    decide: Callable[[P], Cause | None],
    *,
    facilities: Callable[[P], Iterable[str]],
) -> dict[str, PostingPeriod]:
    """Post what ``decide`` makes of each record (``None``: the record posts nothing);
    ``facilities`` names the members a record's decision looks up. Returns where each
    entry posted went, by the id of the event that caused it."""
    uow.load_members(facility for data in records.payloads for facility in facilities(data))
    fresh = _not_posted_before(uow, _decide(uow, records, decide))
    periods = {month: posting_period(uow, month) for month in sorted({d.period for d in fresh})}
    now = uow.clock.now()
    bookings: dict[str, Booking] = {}
    placed: dict[str, PostingPeriod] = {}
    for decided in fresh:
        at = placed[decided.event.id] = periods[decided.period]
        assert decided.cause.entry is not None  # _not_posted_before keeps entries only
        posted = PostedEntry(
            f"JE-{uuid.uuid4().hex}", decided.cause.entry, at.period, at.original_period
        )
        bookings[decided.event.id] = Booking(
            posted, decided.event, decided.cause.occurred_at, decided.cause.source_key
        )
    uow.records.add_entries(
        [booking.row(now) for booking in bookings.values()],
        [line for booking in bookings.values() for line in journal_lines(booking.posted)],
    )
    for _ in records.each():  # each announcement names its own record as cause
        booking = bookings.pop(uow.event.id, None)  # once, were an event ever twice in a set
        if booking is not None:
            uow.publish(booking.announcement(now))
            uow.count_posting(booking.posted.entry_type.value)
    return placed


def _decide(
    uow: FinanceUnitOfWork, records: RecordSet[P], decide: Callable[[P], Cause | None]
) -> list[_Decided]:
    """Each record's cause, in record order; refusing records whose facility is closed."""
    decided: list[_Decided] = []
    for data in records.each():
        try:
            cause = decide(data)
        except NotYetKnown:
            raise  # not refused: only the per-record path parks it (see the docstring)
        except PermanentError as refusal:
            records.refuse(refusal)
            continue
        if cause is not None:
            decided.append(_Decided(uow.event, cause, period_of(cause.occurred_at, uow.clock)))
    return decided


def _not_posted_before(uow: FinanceUnitOfWork, decided: list[_Decided]) -> list[_Decided]:
    """The causes to post: with an entry, not posted before, the first of each key."""
    keys = {d.cause.source_key for d in decided if d.cause.entry is not None}
    posted = uow.records.posted_keys(keys) if keys else set()
    fresh: list[_Decided] = []
    for d in decided:
        if d.cause.entry is None or d.cause.source_key in posted:
            continue
        posted.add(d.cause.source_key)  # a repeat later in the set finds it posted
        fresh.append(d)
    return fresh
