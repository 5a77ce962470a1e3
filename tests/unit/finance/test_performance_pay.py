"""Performance pay: the domain's allocation of a community's fund, and
``allocate_performance_pay`` through an in-memory unit of work (no database)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from libs.events.catalogue.finance import PerformancePayAllocated
from services.finance.adapters.repository import CLOSED
from services.finance.domain import accounts as acc
from services.finance.domain import performance
from services.finance.domain.journal import Book
from services.finance.service_layer.ledger import PeriodIsClosed
from services.finance.service_layer.performance import PERFORMANCE, allocate_performance_pay
from tests.support.finance import COUNTY_CLOCK, finance_policy
from tests.unit.finance.fakes import FakeFinanceRecords, FakeUnitOfWork, member

D = Decimal
POLICY = finance_policy()
NOW = datetime(2026, 4, 1, 2, 0, tzinfo=UTC)
MARCH_POINTS = {
    ("QS-MC1", "2026-03"): {
        ("S1", "QS-T01"): D("3"),
        ("S2", "QS-T01"): D("1"),
        ("S3", "QS-H01"): D("4"),
    }
}


def unit_of_work() -> FakeUnitOfWork:
    records = FakeFinanceRecords(
        [member("QS-T01", "QS-MC1"), member("QS-H01", "QS-MC1"), member("QS-X01", "QS-MC9")],
        points=MARCH_POINTS,
    )
    return FakeUnitOfWork(POLICY, COUNTY_CLOCK, records)


# -- the domain's decisions ------------------------------------------------------------------


def test_a_communitys_fund_is_its_share_of_the_special_fund_split_by_points() -> None:
    split = performance.allocation(
        "QS-MC1", MARCH_POINTS[("QS-MC1", "2026-03")], POLICY.performance_pay
    )
    assert split is not None
    # 600 000.00 × 0.34
    assert (split.special_fund, split.fund, split.paid, split.total) == (
        D("600000.00"),
        D("204000.00"),
        D("204000.00"),
        D("204000.00"),
    )
    assert split.per_member() == {
        Book("QS-MC1", "QS-T01"): D("102000.00"),
        Book("QS-MC1", "QS-H01"): D("102000.00"),
    }
    net: dict[Book, Decimal] = {}
    for line in split.lines():
        net[line.book] = net.get(line.book, D(0)) + line.amount
    assert set(net.values()) == {D(0)}  # balanced in every book


def test_a_fund_nobody_earned_stays_in_the_special_fund() -> None:
    split = performance.allocation("QS-MC2", {}, POLICY.performance_pay)
    assert split is not None
    assert (split.fund, split.paid, split.lines()) == (D("153000.00"), D("0.00"), [])


def test_no_fund_and_no_points_is_nothing_to_record() -> None:
    assert performance.allocation("QS-MC9", {}, POLICY.performance_pay) is None


def test_a_special_fund_given_for_the_period_overrides_the_policys() -> None:
    split = performance.allocation(
        "QS-MC1", {("S1", "QS-T01"): D(1)}, POLICY.performance_pay, D("100.00")
    )
    assert split is not None
    assert (split.special_fund, split.fund) == (D("100.00"), D("34.00"))


# -- allocate_performance_pay through the fake unit of work ------------------------------------


def test_each_community_with_a_fund_or_points_is_allocated_posted_and_recorded() -> None:
    uow = unit_of_work()
    with uow:
        allocated = allocate_performance_pay(uow, "2026-03", NOW)

    assert [a.community_id for a in allocated] == ["QS-MC1", "QS-MC2"]  # QS-MC9: nothing
    assert uow.of_type(PerformancePayAllocated) == allocated
    mc1, mc2 = allocated
    assert [(a.staff_id, a.amount) for a in mc1.allocations] == [
        ("S1", D("76500.00")),
        ("S2", D("25500.00")),
        ("S3", D("102000.00")),
    ]
    assert (mc1.fund_amount, mc2.fund_amount, mc2.allocations) == (D("204000.00"), D("0.00"), [])
    records = uow.fake_records
    assert records.balance("QS-T01", acc.PERFORMANCE_PAY_PAYABLE) == D("-102000.00")
    assert records.balance(None, acc.PERFORMANCE_PAY, "QS-MC1") == D("204000.00")
    [(entry, _)] = records.entries  # nobody earned in QS-MC2: nothing posted there
    assert (entry.period, entry.source_key) == ("2026-03", "performance:QS-MC1:2026-03:1")
    # posted at the end of March on the county's clock: 16:00 UTC on 31 March
    assert entry.occurred_at == datetime(2026, 3, 31, 16, 0, tzinfo=UTC)
    runs = {(r.kind, r.scope): r.total for r in records.runs}
    assert runs == {(PERFORMANCE, "QS-MC1"): D("204000.00"), (PERFORMANCE, "QS-MC2"): D("0.00")}


def test_a_community_allocated_already_for_the_period_is_skipped() -> None:
    uow = unit_of_work()
    with uow:
        allocate_performance_pay(uow, "2026-03", NOW)
        again = allocate_performance_pay(uow, "2026-03", NOW)
    assert again == []
    assert len(uow.of_type(PerformancePayAllocated)) == 2
    assert len(uow.fake_records.entries) == 1


def test_a_closed_period_refuses_performance_pay() -> None:
    uow = unit_of_work()
    uow.fake_records.periods["2026-03"] = CLOSED
    with uow, pytest.raises(PeriodIsClosed):
        allocate_performance_pay(uow, "2026-03", NOW)
    assert uow.published == []
