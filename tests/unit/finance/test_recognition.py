"""Result recognition (检查检验结果互认): the avoided cost in the ordering member's memorandum
accounts, once per order, through an in-memory unit of work (no database)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from libs.events.catalogue.finance import EntryType, JournalEntryPosted
from libs.events.catalogue.quality import ResultRecognised
from libs.events.retry import NotYetKnown, PermanentError
from services.finance.domain import accounts as acc
from services.finance.domain import postings
from services.finance.domain.accounts import CHART, AccountType, Scope
from services.finance.domain.journal import Book, Line, UnbalancedEntry, check_lines, cr, dr
from services.finance.service_layer.recognition import record_recognition
from tests.support.finance import COUNTY_CLOCK, finance_policy, uid
from tests.unit.finance.fakes import FakeFinanceRecords, FakeUnitOfWork, member

D = Decimal
T01 = Book("QS-MC1", "QS-T01")


def recognised(
    facility_id: str = "QS-T01",
    *,
    order_id: str | None = None,
    cost: str = "86.50",
    decided_at: datetime | None = None,
) -> ResultRecognised:
    return ResultRecognised(
        order_id=order_id or uid("ORD"),
        facility_id=facility_id,
        test_code="LAB-CBC",
        earlier_result_id=uid("RES"),
        earlier_facility_id="QS-H01",
        earlier_reported_at=datetime(2026, 3, 10, 2, tzinfo=UTC),
        window_days=7,
        avoided_cost=D(cost),
        decided_at=decided_at or datetime(2026, 3, 12, 2, tzinfo=UTC),
    )


def unit_of_work() -> FakeUnitOfWork:
    closed = member("QS-T09", "QS-MC1")
    closed.active = False
    records = FakeFinanceRecords([member("QS-T01", "QS-MC1"), closed])
    return FakeUnitOfWork(finance_policy(), COUNTY_CLOCK, records)


def lines_of(uow: FakeUnitOfWork) -> list[tuple[str | None, str, Decimal, Decimal]]:
    return [
        (ln.facility_id, ln.account_code, ln.debit, ln.credit)
        for _, lines in uow.fake_records.entries
        for ln in lines
    ]


# -- the chart and the posting rule ------------------------------------------------------------


def test_the_savings_accounts_are_a_memorandum_pair_in_the_members_books() -> None:
    for code in (acc.RECOGNITION_SAVINGS, acc.SAVINGS_MEMORANDUM):
        assert (CHART[code].type, CHART[code].scope) == (AccountType.MEMORANDUM, Scope.FACILITY)
    assert CHART[acc.RECOGNITION_SAVINGS].name_zh == "互认节约费用"


def test_the_saving_is_debited_and_credited_in_the_memorandum_accounts_only() -> None:
    lines = postings.recognition_saving_lines(T01, D("86.50"))
    check_lines(lines)
    assert lines == [
        Line(T01, acc.RECOGNITION_SAVINGS, debit=D("86.50")),
        Line(T01, acc.SAVINGS_MEMORANDUM, credit=D("86.50")),
    ]


def test_a_memorandum_line_may_not_balance_against_money() -> None:
    with pytest.raises(UnbalancedEntry, match="memorandum"):
        check_lines([dr(T01, acc.RECOGNITION_SAVINGS, D("10.00")), cr(T01, acc.BANK, D("10.00"))])


# -- the use case ------------------------------------------------------------------------------


def test_a_recognised_result_books_its_avoided_cost_once_to_the_cent() -> None:
    uow = unit_of_work()
    saving = recognised(cost="86.50")
    with uow:
        record_recognition(saving, uow)
        record_recognition(saving, uow)  # the same order again, e.g. under a new event id
    assert lines_of(uow) == [
        ("QS-T01", "9001", D("86.50"), D("0")),
        ("QS-T01", "9002", D("0"), D("86.50")),
    ]
    (entry, _), *_ = uow.fake_records.entries
    assert (entry.entry_type, entry.period) == ("recognition_saving", "2026-03")
    assert entry.source_key == f"recognition:QS-T01/{saving.order_id}"
    (announced,) = uow.of_type(JournalEntryPosted)
    assert announced.entry_type is EntryType.RECOGNITION_SAVING
    assert uow.posted == {"recognition_saving": 1}
    assert uow.fake_records.balance("QS-T01", acc.BANK) == 0  # no money moved


def test_two_orders_of_the_same_member_add_up() -> None:
    uow = unit_of_work()
    with uow:
        record_recognition(recognised(cost="86.50"), uow)
        record_recognition(recognised(cost="120.05"), uow)
    assert uow.fake_records.balance("QS-T01", acc.RECOGNITION_SAVINGS) == D("206.55")
    assert uow.fake_records.balance("QS-T01", acc.SAVINGS_MEMORANDUM) == D("-206.55")


def test_the_saving_is_dated_on_the_countys_clock() -> None:
    uow = unit_of_work()
    with uow:  # 31 March 17:00 UTC is 1 April 01:00 in the county
        record_recognition(recognised(decided_at=datetime(2026, 3, 31, 17, tzinfo=UTC)), uow)
    assert uow.fake_records.entries[0][0].period == "2026-04"


def test_a_saving_for_a_closed_period_is_booked_in_the_next_open_one() -> None:
    uow = unit_of_work()
    uow.fake_records.periods["2026-03"] = "closed"
    with uow:
        record_recognition(recognised(), uow)
    entry = uow.fake_records.entries[0][0]
    assert (entry.period, entry.original_period) == ("2026-04", "2026-03")


def test_an_item_without_a_price_books_nothing() -> None:
    uow = unit_of_work()
    with uow:
        record_recognition(recognised(cost="0.00"), uow)
    assert uow.fake_records.entries == []
    assert uow.published == []


def test_a_facility_not_known_yet_waits_and_a_closed_one_is_refused() -> None:
    uow = unit_of_work()
    with uow, pytest.raises(NotYetKnown) as unknown:
        record_recognition(recognised("QS-NOPE"), uow)
    assert unknown.value.reason == "unknown_facility"
    with uow, pytest.raises(PermanentError) as closed:
        record_recognition(recognised("QS-T09"), uow)
    assert closed.value.reason == "unknown_facility"
    assert uow.fake_records.entries == []
