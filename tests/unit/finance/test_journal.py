"""Journal entries balance in every book, to the cent, on chart accounts of the right scope."""

from __future__ import annotations

from decimal import Decimal

import pytest

from libs.events.catalogue.finance import EntryType
from services.finance.domain.journal import (
    Book,
    EntryDraft,
    Line,
    PostedEntry,
    UnbalancedEntry,
    UnknownAccount,
    cr,
    dr,
    draft,
    split_by_book,
)

T01, T02 = Book("QS-MC1", "QS-T01"), Book("QS-MC1", "QS-T02")
POOL = Book.pool("QS-MC1")
D = Decimal


def test_a_negative_amount_flips_the_side() -> None:
    assert dr(T01, "1002", D("-5.00")) == Line(T01, "1002", credit=D("5.00"))
    assert cr(T01, "1002", D("-5.00")) == Line(T01, "1002", debit=D("5.00"))


def test_draft_merges_drops_zeros_and_orders_debits_first() -> None:
    entry = draft(
        EntryType.MANUAL,
        "x",
        [
            cr(T01, "4001", D("3.00")),
            dr(T01, "1211", D("1.00")),
            dr(T01, "1211", D("2.00")),
            dr(T01, "1215", D("0.00")),
        ],
    )
    assert entry is not None
    assert entry.lines == (Line(T01, "1211", debit=D("3.00")), Line(T01, "4001", credit=D("3.00")))
    assert draft(EntryType.MANUAL, "nothing", [dr(T01, "1211", D(0))]) is None


@pytest.mark.parametrize(
    ("lines", "error", "message"),
    [
        ([dr(T01, "1002", D("1.00")), cr(T01, "3001", D("0.99"))], UnbalancedEntry, "off by"),
        ([dr(T01, "1002", D("1.00")), cr(T02, "3001", D("1.00"))], UnbalancedEntry, "QS-T01"),
        ([dr(T01, "1002", D("1.00"))], UnbalancedEntry, "two lines"),
        ([dr(T01, "1002", D("0.001")), cr(T01, "3001", D("0.001"))], UnbalancedEntry, "cents"),
        ([Line(T01, "1002", D(1), D(1)), cr(T01, "3001", D(0))], UnbalancedEntry, "exactly one"),
        ([dr(T01, "7777", D("1.00")), cr(T01, "3001", D("1.00"))], UnknownAccount, "chart"),
        ([dr(POOL, "1002", D("1.00")), cr(POOL, "1221", D("1.00"))], UnknownAccount, "facility"),
    ],
)
def test_an_entry_that_does_not_balance_in_each_book_is_refused(lines, error, message) -> None:
    with pytest.raises(error, match=message):
        EntryDraft(EntryType.MANUAL, "x", tuple(lines))


def test_large_entries_split_without_splitting_a_book() -> None:
    books = [Book("QS-MC1", f"F-{n:03d}") for n in range(300)]
    lines = [dr(POOL, "5303", D("300.00")), cr(POOL, "1003", D("300.00"))]
    for book in books:
        lines += [dr(book, "1002", D("1.00")), cr(book, "2215", D("1.00"))]
    groups = split_by_book(lines, max_lines=500)
    assert [len(g) for g in groups] == [500, 102]
    for group in groups:
        EntryDraft(EntryType.PERFORMANCE_PAY, "chunk", tuple(group))  # each balances alone


def test_an_entry_posted_late_says_which_closed_period_it_belongs_to() -> None:
    entry = draft(
        EntryType.DISPENSE, "Dispensed", [dr(T01, "1211", D("1.00")), cr(T01, "4002", D("1.00"))]
    )
    assert entry is not None
    on_time = PostedEntry("JE-1", entry, "2026-03")
    late = PostedEntry("JE-2", entry, "2026-04", original_period="2026-03")
    assert on_time.memo == "Dispensed"
    assert late.memo == "Dispensed (late: belongs to closed period 2026-03)"
    assert (late.entry_type, late.lines) == (EntryType.DISPENSE, entry.lines)
    long = draft(EntryType.DISPENSE, "x" * 500, entry.lines)
    assert long is not None
    assert len(PostedEntry("JE-3", long, "2026-04", "2026-03").memo) == 500
