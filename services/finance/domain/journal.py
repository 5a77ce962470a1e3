"""Journal entries: balanced, exact to the cent, in each book separately.

An entry may touch several books (a transfer touches the sender's and the receiver's); it
must balance in every book it touches, not just in total, so each member's trial balance
and each pool's sums to zero on its own. Inter-book amounts go through the due-to/due-from
accounts, as between independent sets of books.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from libs.events.catalogue.finance import EntryType
from services.finance.domain.accounts import AccountType, Scope, account

__all__ = [
    "ZERO",
    "Book",
    "EntryDraft",
    "Line",
    "PostedEntry",
    "UnbalancedEntry",
    "UnknownAccount",
    "check_lines",
    "cr",
    "dr",
    "draft",
    "split_by_book",
]

ZERO = Decimal("0.00")
#: The most lines one published entry may carry (the event schema's limit).
MAX_LINES = 500


class UnbalancedEntry(ValueError):
    """Debits and credits differ, in total or in one book."""


class UnknownAccount(ValueError):
    """A line names an account the chart does not have, or one of the other scope."""


@dataclass(frozen=True)
class Book:
    """One set of books: a member facility's, or (``facility_id`` None) a community's pool."""

    community_id: str
    facility_id: str | None = None

    @property
    def is_pool(self) -> bool:
        return self.facility_id is None

    @classmethod
    def pool(cls, community_id: str) -> Book:
        return cls(community_id, None)

    @property
    def sort_key(self) -> tuple[str, str]:
        """Community, then its pool before its members."""
        return (self.community_id, self.facility_id or "")

    def __str__(self) -> str:
        return self.facility_id or f"pool:{self.community_id}"


@dataclass(frozen=True)
class Line:
    book: Book
    account: str
    debit: Decimal = ZERO
    credit: Decimal = ZERO

    @property
    def amount(self) -> Decimal:
        """Signed: debit positive, credit negative."""
        return self.debit - self.credit


def dr(book: Book, code: str, amount: Decimal) -> Line:
    """A debit of ``amount`` (a negative amount becomes a credit)."""
    return Line(book, code, debit=amount) if amount >= 0 else Line(book, code, credit=-amount)


def cr(book: Book, code: str, amount: Decimal) -> Line:
    """A credit of ``amount`` (a negative amount becomes a debit)."""
    return Line(book, code, credit=amount) if amount >= 0 else Line(book, code, debit=-amount)


def check_lines(lines: Sequence[Line]) -> None:
    """Raise unless every line is one-sided, exact to the cent, on a chart account of the
    right scope, and the lines balance in every book; memorandum lines (off the balance
    sheet) must balance among themselves too, so no amount crosses onto the balance sheet."""
    if len(lines) < 2:
        raise UnbalancedEntry("an entry needs at least two lines")
    per_book: dict[Book, Decimal] = defaultdict(lambda: ZERO)
    memoranda: dict[Book, Decimal] = defaultdict(lambda: ZERO)
    for line in lines:
        known = account(line.account)
        if known is None:
            raise UnknownAccount(f"account {line.account} is not in the chart")
        wanted = Scope.POOL if line.book.is_pool else Scope.FACILITY
        if known.scope is not wanted:
            raise UnknownAccount(f"account {line.account} is a {known.scope} account, not {wanted}")
        for value in (line.debit, line.credit):
            if value < 0 or value != value.quantize(Decimal("0.01")):
                raise UnbalancedEntry(f"{value} is not a non-negative amount in cents")
        if (line.debit > 0) == (line.credit > 0):
            raise UnbalancedEntry("a line has exactly one of debit or credit")
        per_book[line.book] += line.amount
        if known.type is AccountType.MEMORANDUM:
            memoranda[line.book] += line.amount
    for book, net in per_book.items():
        if net != 0:
            raise UnbalancedEntry(f"the lines in the books of {book} are off by {net}")
    for book, net in memoranda.items():
        if net != 0:
            raise UnbalancedEntry(f"the memorandum lines in the books of {book} are off by {net}")


@dataclass(frozen=True)
class EntryDraft:
    """An entry before it is posted: what, why, and its (checked) lines."""

    entry_type: EntryType
    memo: str
    lines: tuple[Line, ...]

    def __post_init__(self) -> None:
        check_lines(self.lines)

    def books(self) -> list[Book]:
        return sorted({line.book for line in self.lines}, key=lambda b: b.sort_key)


@dataclass(frozen=True)
class PostedEntry:
    """An entry as it stands in the journal: its checked draft, posted in ``period``.

    ``original_period`` names the closed period the cause belonged to when the posting had
    to move on to a later one; the memo says so, for whoever reads the closed period's
    figures and wonders where it went.
    """

    entry_id: str
    draft: EntryDraft
    period: str
    original_period: str | None = None

    @property
    def memo(self) -> str:
        if not self.original_period:
            return self.draft.memo
        return f"{self.draft.memo} (late: belongs to closed period {self.original_period})"[:500]

    @property
    def entry_type(self) -> EntryType:
        return self.draft.entry_type

    @property
    def lines(self) -> tuple[Line, ...]:
        return self.draft.lines


def draft(entry_type: EntryType, memo: str, lines: Iterable[Line]) -> EntryDraft | None:
    """An entry of the non-zero ``lines``, with debits before credits; ``None`` if nothing
    is left (e.g. a visit of amount zero).

    Lines on the same book, account and side are merged, so rules can be written plainly.
    """
    merged: dict[tuple[Book, str, bool], Decimal] = {}
    for line in lines:
        for is_debit, value in ((True, line.debit), (False, line.credit)):
            if value:
                key = (line.book, line.account, is_debit)
                merged[key] = merged.get(key, ZERO) + value
    kept = [
        Line(book, code, debit=value) if is_debit else Line(book, code, credit=value)
        for (book, code, is_debit), value in merged.items()
        if value
    ]
    kept.sort(key=lambda line: (line.book.sort_key, line.credit > 0))
    if not kept:
        return None
    return EntryDraft(entry_type, memo[:500], tuple(kept))


def split_by_book(lines: Sequence[Line], max_lines: int = MAX_LINES) -> list[list[Line]]:
    """Pack lines into groups of at most ``max_lines``, never splitting one book's lines, so
    each group balances on its own (for entries that touch hundreds of members)."""
    by_book: dict[Book, list[Line]] = defaultdict(list)
    for line in lines:
        by_book[line.book].append(line)
    groups: list[list[Line]] = [[]]
    for book in sorted(by_book, key=lambda b: b.sort_key):
        chunk = by_book[book]
        if len(chunk) > max_lines:
            raise UnbalancedEntry(f"the books of {book} alone need {len(chunk)} lines")
        if len(groups[-1]) + len(chunk) > max_lines:
            groups.append([])
        groups[-1].extend(chunk)
    return [g for g in groups if g]
