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

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from libs.events.catalogue.finance import JournalEntryPosted
from libs.events.catalogue.finance import JournalLine as LineOut
from libs.events.envelope import utc_now
from libs.platform.refusals import Conflict
from services.finance.adapters.schema import AccountingPeriod, JournalEntry, JournalLine
from services.finance.domain.journal import EntryDraft
from services.finance.domain.periods import next_period, period_end
from services.finance.service_layer.unit_of_work import FinanceUnitOfWork

__all__ = [
    "CLOSED",
    "OPEN",
    "NotYetDue",
    "PeriodIsClosed",
    "PostingPeriod",
    "ensure_ended",
    "entry_exists",
    "lock_period",
    "post",
    "posting_period",
]

OPEN, CLOSED = "open", "closed"


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
    if now < period_end(period, uow.policy.tz):
        raise NotYetDue(f"period {period} has not ended yet")


@dataclass(frozen=True)
class PostingPeriod:
    period: str
    original_period: str | None = None
    """The period the cause belongs to, when it was closed and the posting moved on."""


def lock_period(session: Session, period: str, *, exclusive: bool = False) -> str:
    """The status of ``period``, locked for this transaction (created open if new)."""
    query = select(AccountingPeriod.status).where(AccountingPeriod.period == period)
    status = session.execute(query.with_for_update(read=not exclusive)).scalar_one_or_none()
    if status is None:
        _insert_open(session, period)
        status = session.execute(query.with_for_update(read=not exclusive)).scalar_one()
    return status


def _insert_open(session: Session, period: str) -> None:
    values = {"period": period, "status": OPEN, "closed_at": None}
    if session.get_bind().dialect.name == "postgresql":
        session.execute(postgresql.insert(AccountingPeriod).values(values).on_conflict_do_nothing())
    else:
        session.execute(sqlite.insert(AccountingPeriod).values(values).on_conflict_do_nothing())


def posting_period(uow: FinanceUnitOfWork, period: str, *, strict: bool = False) -> PostingPeriod:
    """Where a posting dated in ``period`` goes: there if open, else the next open period.

    With ``strict`` a closed period is refused instead (manual entries name their period).
    """
    candidate = period
    while candidate not in uow.locked_periods:
        if lock_period(uow.session, candidate) != CLOSED:
            uow.locked_periods.add(candidate)  # held until this transaction ends
            break
        if strict:
            raise PeriodIsClosed(f"period {period} is closed")
        candidate = next_period(candidate)
    return PostingPeriod(candidate, None if candidate == period else period)


def entry_exists(uow: FinanceUnitOfWork, source_key: str) -> bool:
    """Whether something with ``source_key`` was posted already (the domain's own guard
    against a cause arriving twice under different event ids)."""
    query = select(JournalEntry.entry_id).where(JournalEntry.source_key == source_key)
    return uow.session.execute(query).first() is not None


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
    cause = uow.cause
    entry_id = f"JE-{uuid.uuid4().hex}"
    now = utc_now()
    memo = entry.memo
    if at.original_period:
        memo = f"{memo} (late: belongs to closed period {at.original_period})"[:500]
    uow.session.add(
        JournalEntry(
            entry_id=entry_id,
            entry_type=entry.entry_type.value,
            period=at.period,
            original_period=at.original_period,
            memo=memo,
            source_key=source_key,
            causation_event_id=cause.id if cause else None,
            causation_event_type=cause.type if cause else None,
            reverses_entry_id=reverses_entry_id,
            occurred_at=occurred_at,
            posted_at=now,
        )
    )
    uow.session.add_all(
        JournalLine(
            entry_id=entry_id,
            line_no=n,
            period=at.period,
            community_id=line.book.community_id,
            facility_id=line.book.facility_id,
            account_code=line.account,
            debit=line.debit,
            credit=line.credit,
        )
        for n, line in enumerate(entry.lines, start=1)
    )
    event = JournalEntryPosted(
        entry_id=entry_id,
        entry_type=entry.entry_type,
        period=at.period,
        memo=memo,
        lines=[
            LineOut(
                account_code=line.account,
                facility_id=line.book.facility_id,
                community_id=line.book.community_id,
                debit=line.debit,
                credit=line.credit,
            )
            for line in entry.lines
        ],
        causation_event_id=cause.id if cause else None,
        causation_event_type=cause.type if cause else None,
        reverses_entry_id=reverses_entry_id,
        original_period=at.original_period,
        posted_at=now,
    )
    uow.publish(event)
    uow.count_posting(entry.entry_type.value)
    return event
