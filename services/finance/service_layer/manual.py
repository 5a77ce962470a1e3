"""Entries people make: manual entries and reversals (the only correction there is).

Entries are immutable. A reversal posts the mirror image of an entry in an open period
(by default the current one) and names it; an entry is reversed at most once. Reversals
correct the books only: a reversed visit's claim still counts against the bundle.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select

from libs.directory import FacilityDirectory, KnownCommunity
from libs.events.catalogue.finance import EntryType, JournalEntryPosted
from libs.platform.refusals import Conflict, Invalid, NotFound
from services.finance.adapters.schema import JournalEntry, JournalLine
from services.finance.domain.journal import Book, EntryDraft, Line, UnbalancedEntry, UnknownAccount
from services.finance.domain.periods import period_of
from services.finance.service_layer.ledger import post, posting_period
from services.finance.service_layer.unit_of_work import FinanceUnitOfWork

__all__ = [
    "AlreadyReversed",
    "EntryNotFound",
    "ManualLine",
    "UnknownBook",
    "post_manual_entry",
    "reverse_entry",
]


class UnknownBook(Invalid):
    """A line names a facility or community this service does not know."""

    def __init__(self, message: str) -> None:
        super().__init__("unknown_book", message)


class EntryNotFound(NotFound):
    def __init__(self, message: str) -> None:
        super().__init__("not_found", message)


class AlreadyReversed(Conflict):
    def __init__(self, message: str) -> None:
        super().__init__("already_reversed", message)


@contextmanager
def refused_as_invalid() -> Iterator[None]:
    """The journal's own refusals of an entry a person wrote, as the request's errors."""
    try:
        yield
    except UnbalancedEntry as exc:
        raise Invalid("unbalanced", str(exc)) from None
    except UnknownAccount as exc:
        raise Invalid("unknown_account", str(exc)) from None


@dataclass(frozen=True)
class ManualLine:
    account_code: str
    facility_id: str | None
    community_id: str | None
    debit: Decimal
    credit: Decimal


def _book(uow: FinanceUnitOfWork, line: ManualLine) -> Book:
    if line.facility_id is not None:
        facility = FacilityDirectory(uow.session).get(line.facility_id)
        if facility is None or not facility.active:
            raise UnknownBook(f"facility {line.facility_id} is not a member")
        if line.community_id not in (None, facility.community_id):
            raise UnknownBook(f"facility {line.facility_id} is not in {line.community_id}")
        return Book(facility.community_id, facility.facility_id)
    if line.community_id is None:
        raise UnknownBook("a line names a facility (its books) or a community (its pool)")
    if uow.session.get(KnownCommunity, line.community_id) is None:
        raise UnknownBook(f"community {line.community_id} is not known")
    return Book.pool(line.community_id)


def post_manual_entry(
    uow: FinanceUnitOfWork, lines: list[ManualLine], memo: str, period: str | None = None
) -> JournalEntryPosted:
    """Post an entry as given: it must balance in every book, use chart accounts of the
    right scope, and be dated in an open period (the current one by default)."""
    with uow, refused_as_invalid():
        entry = EntryDraft(
            EntryType.MANUAL,
            memo,
            tuple(Line(_book(uow, ln), ln.account_code, ln.debit, ln.credit) for ln in lines),
        )
        now = uow.clock.now()
        at = posting_period(uow, period or period_of(now, uow.clock), strict=True)
        event = post(uow, entry, at, occurred_at=now)
        uow.commit()
        return event


def reverse_entry(
    uow: FinanceUnitOfWork, entry_id: str, memo: str, period: str | None = None
) -> JournalEntryPosted:
    """Post the mirror image of ``entry_id`` in an open period."""
    with uow:
        original = uow.session.get(JournalEntry, entry_id, with_for_update=True)
        if original is None:
            raise EntryNotFound(f"entry {entry_id} does not exist")
        taken = select(JournalEntry.entry_id).where(JournalEntry.reverses_entry_id == entry_id)
        if uow.session.execute(taken).first() is not None:
            raise AlreadyReversed(f"entry {entry_id} was reversed already")
        rows = uow.session.scalars(
            select(JournalLine)
            .where(JournalLine.entry_id == entry_id)
            .order_by(JournalLine.line_no)
        )
        mirrored = tuple(
            Line(Book(r.community_id, r.facility_id), r.account_code, r.credit, r.debit)
            for r in rows
        )
        entry = EntryDraft(EntryType.REVERSAL, f"Reversal of {entry_id}: {memo}", mirrored)
        now = uow.clock.now()
        at = posting_period(uow, period or period_of(now, uow.clock), strict=True)
        event = post(uow, entry, at, occurred_at=now, reverses_entry_id=entry_id)
        uow.commit()
        return event
