"""Drugs in the books: transfers at the unified price, dispensing, write-offs."""

from __future__ import annotations

from decimal import Decimal

from tests.support.finance import balance, dispensed, totals_by_book, transfer, written_off
from tests.support.harness import HandlerHarness, event_of


def entries(harness: HandlerHarness, entry_type: str):
    return [
        e.data
        for e in harness.published("finance.journal_entry.posted.v1")
        if e.data.entry_type == entry_type
    ]


def test_ten_packs_at_the_unified_price_post_exactly_ten_times_it(finance: HandlerHarness):
    moved = transfer("QS-H01", "QS-T01", packs=10, unit_price="12.3456")
    finance.apply(event_of(moved))
    (entry,) = entries(finance, "transfer_settlement")
    ten_p = Decimal("123.46")  # 10 × 12.3456 = 123.456, to the cent
    assert {(ln.facility_id, ln.account_code, ln.debit, ln.credit) for ln in entry.lines} == {
        ("QS-T01", "1302", ten_p, Decimal("0.00")),  # the receiver's stock, at P
        ("QS-T01", "2306", Decimal("0.00"), ten_p),  # owed to the sender
        ("QS-H01", "1216", ten_p, Decimal("0.00")),  # owed by the receiver
        ("QS-H01", "1302", Decimal("0.00"), ten_p),  # lots without a cost leave at P
    }
    assert balance(finance, "2306", facility_id="QS-T01") == -ten_p
    assert balance(finance, "1216", facility_id="QS-H01") == ten_p


def test_the_sender_gives_up_its_cost_and_books_the_margin(finance: HandlerHarness):
    finance.apply(
        event_of(transfer("QS-H01", "QS-T02", packs=10, unit_price="15.00", unit_cost="11.25"))
    )
    (entry,) = entries(finance, "transfer_settlement")
    sender = {
        ln.account_code: ln.credit for ln in entry.lines if ln.facility_id == "QS-H01" and ln.credit
    }
    assert sender == {"1302": Decimal("112.50"), "4003": Decimal("37.50")}


def test_a_redelivered_or_resent_transfer_posts_nothing_the_second_time(finance: HandlerHarness):
    moved = transfer("QS-H02", "QS-T05", packs=3, unit_price="7.7777")
    first = event_of(moved)
    finance.apply(first)
    assert finance.apply(first).duplicates == [first.id]
    resent = event_of(moved)  # the same transfer under a new event id: the same fact
    assert finance.apply(resent).duplicates == [resent.id]
    assert len(entries(finance, "transfer_settlement")) == 1
    assert balance(finance, "2306", facility_id="QS-T05") == Decimal("-23.33")


def test_dispensing_posts_revenue_at_the_unified_price_and_the_lots_cost(finance: HandlerHarness):
    finance.apply(event_of(dispensed("QS-T04", packs=2, unit_price="8.50", unit_cost="6.00")))
    assert balance(finance, "4002", facility_id="QS-T04") == Decimal("-17.00")
    assert balance(finance, "1211", facility_id="QS-T04") == Decimal("17.00")
    assert balance(finance, "5001", facility_id="QS-T04") == Decimal("12.00")
    assert balance(finance, "1302", facility_id="QS-T04") == Decimal("-12.00")


def test_an_expired_write_off_posts_a_loss(finance: HandlerHarness):
    finance.apply(event_of(written_off("QS-T02", value="45.60")))
    assert balance(finance, "5002", facility_id="QS-T02") == Decimal("45.60")
    assert balance(finance, "1302", facility_id="QS-T02") == Decimal("-45.60")
    assert set(totals_by_book(finance).values()) == {Decimal(0)}


def test_a_transfer_with_an_unknown_member_is_dead_lettered(finance: HandlerHarness):
    result = finance.apply(event_of(transfer("QS-H01", "QS-GHOST")))
    assert [reason for _, reason in result.dead_lettered] == ["unknown_facility"]
    assert entries(finance, "transfer_settlement") == []
