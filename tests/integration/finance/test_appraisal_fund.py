"""The half-year member appraisal fund (绩效考核) in the books, on SQLite and PostgreSQL: each
community's fund split by the approved scores to the cent, posted once per revision; a
re-approval reverses the earlier revision and posts the new one once; a late replay of an
old revision changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from libs.events.catalogue.administration import AppraisalApproved, MemberScore
from services.finance.api.appraisal_funds import appraisal_funds
from services.finance.domain import accounts as acc
from services.finance.service_layer.appraisal_fund import allocate_appraisal_fund
from services.finance.service_layer.unit_of_work import FinanceUnitOfWork
from tests.support.finance import balance, finance_harness, finance_policy, totals_by_book
from tests.support.harness import HandlerHarness, event_of

D = Decimal
PERIOD = "2026-H1"
MC1_FUND, MC2_FUND = D("1224000.00"), D("918000.00")  # 34% of 3,600,000 and of 2,700,000
REVISION_1 = {"QS-H01": "90", "QS-T01": "80", "QS-T02": "0", "QS-T05": "70", "QS-C04": "30"}
REVISION_2 = {"QS-H01": "90", "QS-T01": "60", "QS-T02": "50", "QS-T05": "50", "QS-C04": "50"}
COMMUNITY = {
    "QS-H01": "QS-MC1",
    "QS-T01": "QS-MC1",
    "QS-T02": "QS-MC1",
    "QS-T05": "QS-MC2",
    "QS-C04": "QS-MC2",
}


def approved(revision: int, scores: dict[str, str], day: int = 10) -> AppraisalApproved:
    return AppraisalApproved(
        period=PERIOD,
        revision=revision,
        members=[
            MemberScore(facility_id=f, community_id=COMMUNITY[f], score=D(s))
            for f, s in scores.items()
        ],
        approved_by="QS-ADMIN-01",
        approved_at=datetime(2026, 7, day, 2, tzinfo=UTC),
    )


def member_pay(finance: HandlerHarness) -> dict[str, Decimal]:
    """What each member's books owe their staff (credit balances, as positive amounts)."""
    return {
        f: -balance(finance, acc.PERFORMANCE_PAY_PAYABLE, facility_id=f) for f in sorted(COMMUNITY)
    }


def pool_pay(finance: HandlerHarness, community: str) -> Decimal:
    return balance(finance, acc.PERFORMANCE_PAY, community_id=community, facility_id=None)


def entries(finance: HandlerHarness, entry_type: str) -> list[Any]:
    posted = finance.published("finance.journal_entry.posted.v1")
    return [e.data for e in posted if e.data.entry_type == entry_type]


def read(finance: HandlerHarness) -> list[dict[str, Any]]:
    uow = finance.uow()
    assert isinstance(uow, FinanceUnitOfWork)
    return appraisal_funds(PERIOD, None, uow)  # type: ignore[arg-type]


def replay_directly(finance: HandlerHarness, approval: AppraisalApproved) -> None:
    """Apply an approval with the handler itself, not through the backbone (which skips a
    fact it has seen): the handler's own guard must hold."""
    uow = finance.uow()
    assert isinstance(uow, FinanceUnitOfWork)
    with uow:
        allocate_appraisal_fund(approval, uow)
        uow.commit()


def test_a_revision_is_posted_once_and_a_correction_reverses_and_reposts_once(
    finance: HandlerHarness,
) -> None:
    first = event_of(approved(1, REVISION_1))
    assert not finance.apply(first, first).dead_lettered  # redelivered under the same id
    assert not finance.apply(event_of(approved(1, REVISION_1))).dead_lettered  # resent
    assert pool_pay(finance, "QS-MC1") == MC1_FUND
    assert pool_pay(finance, "QS-MC2") == MC2_FUND
    assert balance(finance, acc.POOL_BANK) == -(MC1_FUND + MC2_FUND)
    assert member_pay(finance) == {
        "QS-C04": D("275400.00"),
        "QS-H01": D("648000.00"),
        "QS-T01": D("576000.00"),
        "QS-T02": D("0"),
        "QS-T05": D("642600.00"),
    }
    assert [e.period for e in entries(finance, "performance_pay")] == ["2026-07", "2026-07"]
    replay_directly(finance, approved(1, REVISION_1))
    assert pool_pay(finance, "QS-MC1") == MC1_FUND

    assert not finance.apply(event_of(approved(2, REVISION_2, day=20))).dead_lettered
    assert not finance.apply(event_of(approved(2, REVISION_2, day=20))).dead_lettered
    assert not finance.apply(event_of(approved(1, REVISION_1))).dead_lettered  # a late replay
    replay_directly(finance, approved(1, REVISION_1))  # past the backbone's own guard too
    assert pool_pay(finance, "QS-MC1") == MC1_FUND
    assert pool_pay(finance, "QS-MC2") == MC2_FUND
    assert member_pay(finance) == {
        "QS-C04": D("459000.00"),
        "QS-H01": D("550800.00"),
        "QS-T01": D("367200.00"),
        "QS-T02": D("306000.00"),
        "QS-T05": D("459000.00"),
    }
    reversals = entries(finance, "reversal")
    first_postings = [e.entry_id for e in entries(finance, "performance_pay")[:2]]
    assert sorted(r.reverses_entry_id for r in reversals) == sorted(first_postings)
    assert len(entries(finance, "performance_pay")) == 4
    assert set(totals_by_book(finance).values()) == {D(0)}

    funds = read(finance)
    assert [(f["community_id"], f["revision"], f["reversed_revisions"]) for f in funds] == [
        ("QS-MC1", 2, [1]),
        ("QS-MC2", 2, [1]),
    ]
    mc1 = funds[0]
    assert D(mc1["fund"]) == MC1_FUND
    assert D(str(mc1["total"])) == MC1_FUND
    assert [(m["facility_id"], m["score"], m["amount"]) for m in mc1["members"]] == [
        ("QS-H01", "90", "550800.00"),
        ("QS-T01", "60", "367200.00"),
        ("QS-T02", "50", "306000.00"),
    ]


def test_a_community_without_a_configured_fund_gets_nothing_and_nothing_is_refused(
    make_database: Callable[[str], str],
) -> None:
    def no_mc2(doc: dict[str, Any]) -> None:
        del doc["member_appraisal"]["special_fund_per_half_year"]["QS-MC2"]

    finance = finance_harness(make_database("finance"), finance_policy(no_mc2))
    try:
        assert not finance.apply(event_of(approved(1, REVISION_1))).dead_lettered
        assert pool_pay(finance, "QS-MC1") == MC1_FUND
        assert pool_pay(finance, "QS-MC2") == 0
        assert [f["community_id"] for f in read(finance)] == ["QS-MC1"]
    finally:
        finance.close()


def test_a_member_named_in_another_community_is_refused(finance: HandlerHarness) -> None:
    wrong = approved(1, {"QS-H01": "90"})
    wrong.members[0] = MemberScore(facility_id="QS-H01", community_id="QS-MC2", score=D("90"))
    assert finance.apply(event_of(wrong)).dead_lettered
    assert pool_pay(finance, "QS-MC1") == 0
