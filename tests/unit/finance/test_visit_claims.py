"""A visit against the bundle: the domain's terms and postings, and ``record_visit`` through
an in-memory unit of work (no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from libs.events.catalogue.finance import BudgetOpened, BudgetThresholdCrossed, ClaimValued
from libs.events.catalogue.values import FacilityTier, InsuranceType
from libs.events.retry import NotYetKnown
from libs.platform.clock import CountyClock
from services.finance.domain import accounts as acc
from services.finance.domain import bundle, claims
from services.finance.domain.journal import Book
from services.finance.service_layer.visits import record_visit
from tests.support.finance import COUNTY_CLOCK, finance_policy, local, visit
from tests.unit.finance.fakes import FakeFinanceRecords, FakeUnitOfWork, member

D = Decimal
POLICY = finance_policy()
T01 = Book("QS-MC1", "QS-T01")


def unit_of_work(clock: CountyClock = COUNTY_CLOCK, **policy_change: str) -> FakeUnitOfWork:
    def small_budget(doc: dict) -> None:
        for plan in doc["bundle"]["budgets"]:
            if (plan["community_id"], plan["year"]) == ("QS-MC1", 2026):
                plan.update(policy_change)

    records = FakeFinanceRecords(
        [member("QS-T01", "QS-MC1", "secondary"), member("QS-T02", "QS-MC2")]
    )
    return FakeUnitOfWork(finance_policy(small_budget), clock, records)


# -- the domain's decisions ------------------------------------------------------------------


def test_at_a_member_the_communitys_tier_sets_the_ratio_not_the_his() -> None:
    seen = visit("QS-T01", tier=FacilityTier.PRIMARY)
    terms = claims.visit_terms(seen, (T01, FacilityTier.SECONDARY), POLICY)
    assert (terms.member, terms.tier, terms.ratio, terms.community) == (
        T01,
        FacilityTier.SECONDARY,
        D("0.85"),
        "QS-MC1",
    )


def test_outside_the_county_the_out_of_county_communitys_bundle_pays() -> None:
    terms = claims.visit_terms(visit("X-1", in_county=False), None, POLICY)
    assert (terms.in_county, terms.ratio, terms.community) == (False, D("0.90"), "QS-MC1")


def test_self_pay_and_other_counties_insurees_are_not_paid_by_the_bundle() -> None:
    self_pay = visit("QS-T01", insurance=InsuranceType.SELF_PAY)
    elsewhere = visit("QS-T01", insured_in_county=False)
    for seen in (self_pay, elsewhere):
        assert claims.visit_terms(seen, (T01, FacilityTier.PRIMARY), POLICY).ratio is None


def test_a_claim_entry_makes_the_pool_owe_the_member_what_the_bundle_pays() -> None:
    seen = visit("QS-T01", eligible="100.00", total="130.00")
    terms = claims.visit_terms(seen, (T01, FacilityTier.PRIMARY), POLICY)
    entry = claims.claim_entry(seen, terms, bundle.value_visit(D("100.00"), D("0.90")), "B-1")
    assert entry is not None
    amounts = {(str(line.book), line.account): line.amount for line in entry.lines}
    assert amounts == {
        ("QS-T01", acc.DUE_FROM_POOL): D("90.00"),
        ("QS-T01", acc.PATIENT_RECEIVABLE): D("40.00"),
        ("QS-T01", acc.MEDICAL_REVENUE): D("-130.00"),
        ("pool:QS-MC1", acc.BUNDLE_UNCONSUMED): D("90.00"),
        ("pool:QS-MC1", acc.POOL_DUE_TO_MEMBERS): D("-90.00"),
    }


def test_a_claim_charges_the_budget_and_counts_care_outside_the_county_apart() -> None:
    class Figures:
        consumed, consumed_out_of_county, claims = D(0), D(0), 0

    figures = Figures()
    claims.charge(figures, D("90.00"), in_county=True)
    claims.charge(figures, D("10.00"), in_county=False)
    assert (figures.consumed, figures.consumed_out_of_county, figures.claims) == (
        D("100.00"),
        D("10.00"),
        2,
    )


def test_a_claim_of_another_year_is_paced_as_at_the_budgets_year_end() -> None:
    assert claims.pace_month("2026-03", 2026) == 3
    assert claims.pace_month("2025-12", 2026) == 12
    assert claims.pace_calendar_share(date(2025, 12, 31), 2026) == 1


# -- record_visit through the fake unit of work -----------------------------------------------


def test_a_county_insurees_visit_at_a_member_is_valued_posted_and_announced() -> None:
    uow = unit_of_work()
    with uow:
        record_visit(visit("QS-T01", eligible="100.00", total="120.00"), uow)

    [valued] = uow.of_type(ClaimValued)
    # the community says QS-T01 is secondary: 85 %, whatever the HIS said
    assert (valued.reimbursement_ratio, valued.fund_payout, valued.patient_copay) == (
        D("0.85"),
        D("85.00"),
        D("15.00"),
    )
    assert (valued.community_id, valued.period, valued.budget_consumed) == (
        "QS-MC1",
        "2026-03",
        D("85.00"),
    )
    [opened] = uow.of_type(BudgetOpened)  # the year's budget was opened on first use
    assert opened.budget_id == valued.budget_id
    [claim] = uow.fake_records.claims
    assert (claim.payout, claim.in_county, claim.facility_tier) == (D("85.00"), True, "secondary")
    assert claim.entry_id is not None
    records = uow.fake_records
    assert records.balance("QS-T01", acc.DUE_FROM_POOL) == D("85.00")
    assert records.balance("QS-T01", acc.MEDICAL_REVENUE) == D("-120.00")
    assert records.balance(None, acc.POOL_DUE_TO_MEMBERS, "QS-MC1") == D("-85.00")
    assert uow.posted == {"budget_prepayment": 1, "visit_claim": 1}


def test_the_same_visit_sent_again_is_valued_once() -> None:
    uow = unit_of_work()
    seen = visit("QS-T01")
    with uow:
        record_visit(seen, uow)
        record_visit(seen, uow)
    assert len(uow.of_type(ClaimValued)) == 1
    assert len(uow.fake_records.claims) == 1
    assert uow.posted["visit_claim"] == 1


def test_a_self_pay_visit_at_a_member_is_revenue_owed_by_the_patient_and_no_claim() -> None:
    uow = unit_of_work()
    seen = visit("QS-T01", insurance=InsuranceType.SELF_PAY, eligible="0.00", total="50.00")
    with uow:
        record_visit(seen, uow)
        record_visit(seen, uow)  # posted once
    assert uow.of_type(ClaimValued) == []
    assert uow.fake_records.claims == []
    assert uow.fake_records.balance("QS-T01", acc.PATIENT_RECEIVABLE) == D("50.00")
    assert uow.posted == {"visit_claim": 1}


def test_another_countys_insuree_treated_outside_the_county_is_not_in_our_books() -> None:
    uow = unit_of_work()
    with uow:
        record_visit(visit("X-1", in_county=False, insured_in_county=False), uow)
    assert uow.published == []
    assert uow.fake_records.entries == []


def test_care_outside_the_county_consumes_the_out_of_county_communitys_bundle() -> None:
    uow = unit_of_work()
    with uow:
        record_visit(visit("X-1", in_county=False, eligible="200.00"), uow)
    [valued] = uow.of_type(ClaimValued)
    assert (valued.community_id, valued.fund_payout) == ("QS-MC1", D("180.00"))
    budget = uow.fake_records.budgets[("QS-MC1", 2026)]
    assert (budget.consumed, budget.consumed_out_of_county) == (D("180.00"), D("180.00"))
    # the fund paid the outside hospital out of what it still owed the community
    owed = D("96000000.00") - D("8000000.00") - D("180.00")
    assert uow.fake_records.balance(None, acc.FUND_RECEIVABLE, "QS-MC1") == owed


def test_a_visit_at_an_unknown_member_waits_for_the_organisation() -> None:
    uow = unit_of_work()
    with uow, pytest.raises(NotYetKnown):
        record_visit(visit("QS-NOPE"), uow)
    assert uow.published == []


def test_a_visit_early_on_new_years_day_is_januarys_on_the_county_clock() -> None:
    uow = unit_of_work()
    # 07:30 on 1 January 2026 in the county, still 2025 in UTC
    when = datetime(2025, 12, 31, 23, 30, tzinfo=UTC)
    with uow:
        record_visit(visit("QS-T02", when=when), uow)
    [valued] = uow.of_type(ClaimValued)
    assert (valued.period, valued.budget_id) == ("2026-01", "BUD-QS-MC2-2026")


def test_a_budget_consumed_ahead_of_the_calendar_announces_each_threshold_once() -> None:
    uow = unit_of_work(total="100.00", prepayment="10.00")
    with uow:
        record_visit(visit("QS-T01", eligible="80.00", when=local(2026, 3, 10)), uow)
        record_visit(visit("QS-T01", eligible="1.00", when=local(2026, 3, 11)), uow)
    crossed = uow.of_type(BudgetThresholdCrossed)
    # 68.00 of 100.00 in March: past 50 % (by May), not yet 80 % (by August)
    assert [(c.threshold, c.consumed_amount) for c in crossed] == [(D("0.50"), D("68.00"))]
    assert crossed[0].calendar_share == D("0.189041")  # 69 of 365 days


def test_a_claim_is_valued_at_the_unit_of_works_clock() -> None:
    valued_at = datetime(2026, 3, 10, 2, 0, 5, tzinfo=UTC)
    uow = unit_of_work(CountyClock(COUNTY_CLOCK.zone, lambda: valued_at))
    with uow:
        record_visit(visit("QS-T01"), uow)
    [valued] = uow.of_type(ClaimValued)
    assert valued.valued_at == valued_at
    [(entry, _)] = [e for e in uow.fake_records.entries if e[0].entry_type == "visit_claim"]
    assert entry.posted_at == valued_at
