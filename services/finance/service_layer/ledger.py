"""Posting to the journal: the one way entries are written and announced.

Periods: an entry is dated in the period of the event that caused it. A closed period
refuses postings; an event that arrives late for a closed period is posted in the first
open period after it, with ``original_period`` naming where it belonged (so the closed
period's figures never change after it was closed and reported).

Concurrency: posting share-locks the period row it posts in; closing a period takes the
row's exclusive lock, so a close waits for in-flight postings to commit and no posting can
land in a period after its close committed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from libs.events import CloudEvent, Payload
from libs.events.catalogue.finance import EntryType, JournalEntryPosted
from libs.events.catalogue.finance import JournalLine as LineOut
from libs.platform.refusals import Conflict
from services.finance.adapters.repository import CLOSED, OPEN, lock_period
from services.finance.adapters.schema import JournalEntry, JournalLine
from services.finance.domain.journal import EntryDraft, Line, PostedEntry, draft, split_by_book
from services.finance.domain.periods import next_period, period_end
from services.finance.service_layer.unit_of_work import FinanceUnitOfWork

__all__ = [
    "CLOSED",
    "OPEN",
    "Booking",
    "NotYetDue",
    "PeriodIsClosed",
    "PostingPeriod",
    "ensure_ended",
    "entry_exists",
    "journal_lines",
    "lock_period",
    "post",
    "post_split",
    "posting_period",
]


class PeriodIsClosed(Conflict):
    """A posting was asked for, strictly, in a closed period."""

    def __init__(self, message: str) -> None:
        super().__init__("period_closed", message)


class NotYetDue(Conflict):
    """A period (or year) that has not ended yet cannot be settled or closed."""

    def __init__(self, message: str, code: str = "period_not_ended") -> None:
        super().__init__(code, message)


def ensure_ended(uow: FinanceUnitOfWork, period: str, now: datetime) -> None:
    """Raise :class:`NotYetDue` unless ``period`` is over in the county's time."""
    if now < period_end(period, uow.clock):
        raise NotYetDue(f"period {period} has not ended yet")


@dataclass(frozen=True)
class PostingPeriod:
    period: str
    original_period: str | None = None
    """The period the cause belongs to, when it was closed and the posting moved on."""


def posting_period(uow: FinanceUnitOfWork, period: str, *, strict: bool = False) -> PostingPeriod:
    """Where a posting dated in ``period`` goes: there if open, else the next open period.

    With ``strict`` a closed period is refused instead (manual entries name their period).
    """
    candidate = period
    while candidate not in uow.locked_periods:
        if uow.records.period_status(candidate) != CLOSED:
            uow.locked_periods.add(candidate)  # held until this transaction ends
            break
        if strict:
            raise PeriodIsClosed(f"period {period} is closed")
        candidate = next_period(candidate)
    return PostingPeriod(candidate, None if candidate == period else period)


def entry_exists(uow: FinanceUnitOfWork, source_key: str) -> bool:
    """Whether something with ``source_key`` was posted already (the domain's own guard
    against a cause arriving twice under different event ids)."""
    return uow.records.has_entry(source_key)


def post(
    uow: FinanceUnitOfWork,
    entry: EntryDraft,
    at: PostingPeriod,
    *,
    occurred_at: datetime,
    source_key: str | None = None,
    reverses_entry_id: str | None = None,
) -> JournalEntryPosted:
    """Write ``entry`` in period ``at`` and publish it; the causing event is the one being
    handled (none for an HTTP request)."""
    posted = PostedEntry(f"JE-{uuid.uuid4().hex}", entry, at.period, at.original_period)
    cause = uow.cause
    now = uow.clock.now()
    booking = Booking(posted, cause, occurred_at, source_key, reverses_entry_id)
    uow.records.add_entry(booking.row(now), journal_lines(posted))
    event = booking.announcement(now)
    uow.publish(event)
    uow.count_posting(posted.entry_type.value)
    return event


@dataclass(frozen=True)
class Booking:
    """An entry as the journal keeps it and the event announces it: the posted entry, what
    caused it (none for an HTTP request) and its keys. Posting one record and posting a set
    at once (``posting_sets.py``) write and announce the same through it."""

    posted: PostedEntry
    cause: CloudEvent[Payload] | None
    occurred_at: datetime
    source_key: str | None = None
    reverses_entry_id: str | None = None

    def row(self, now: datetime) -> JournalEntry:
        """The journal's row of the entry."""
        posted, cause = self.posted, self.cause
        return JournalEntry(
            entry_id=posted.entry_id,
            entry_type=posted.entry_type.value,
            period=posted.period,
            original_period=posted.original_period,
            memo=posted.memo,
            source_key=self.source_key,
            causation_event_id=cause.id if cause else None,
            causation_event_type=cause.type if cause else None,
            reverses_entry_id=self.reverses_entry_id,
            occurred_at=self.occurred_at,
            posted_at=now,
        )

    def announcement(self, now: datetime) -> JournalEntryPosted:
        """The event announcing the entry."""
        posted, cause = self.posted, self.cause
        return JournalEntryPosted(
            entry_id=posted.entry_id,
            entry_type=posted.entry_type,
            period=posted.period,
            memo=posted.memo,
            lines=_announced_lines(posted),
            causation_event_id=cause.id if cause else None,
            causation_event_type=cause.type if cause else None,
            reverses_entry_id=self.reverses_entry_id,
            original_period=posted.original_period,
            posted_at=now,
        )


def journal_lines(posted: PostedEntry) -> list[JournalLine]:
    """The entry's lines as the journal keeps them, numbered from 1."""
    return [
        JournalLine(
            entry_id=posted.entry_id,
            line_no=n,
            period=posted.period,
            community_id=line.book.community_id,
            facility_id=line.book.facility_id,
            account_code=line.account,
            debit=line.debit,
            credit=line.credit,
        )
        for n, line in enumerate(posted.lines, start=1)
    ]


def _announced_lines(posted: PostedEntry) -> list[LineOut]:
    """The entry's lines as the event carries them."""
    return [
        LineOut(
            account_code=line.account,
            facility_id=line.book.facility_id,
            community_id=line.book.community_id,
            debit=line.debit,
            credit=line.credit,
        )
        for line in posted.lines
    ]


def post_split(
    uow: FinanceUnitOfWork,
    entry_type: EntryType,
    memo: str,
    lines: list[Line],
    at: PostingPeriod,
    *,
    occurred_at: datetime,
    source: str,
) -> int:
    """Post ``lines`` as as many entries as the event's line limit needs, each balanced in
    its own books (``source:1``, ``source:2``…); returns how many were posted."""
    posted = 0
    for n, chunk in enumerate(split_by_book(lines), start=1):
        entry = draft(entry_type, memo, chunk)
        if entry is not None:
            post(uow, entry, at, occurred_at=occurred_at, source_key=f"{source}:{n}")
            posted += 1
    return posted
