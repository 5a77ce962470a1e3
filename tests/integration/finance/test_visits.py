"""Visits valued against the bundle, through the real handlers on a real database."""

from __future__ import annotations

from decimal import Decimal
from functools import partial

from prometheus_client import CollectorRegistry

from libs.events.catalogue.values import FacilityTier, InsuranceType
from services.finance.metrics import postings_counter
from services.finance.service_layer.unit_of_work import FinanceUnitOfWork
from tests.support.finance import (
    COUNTY_CLOCK,
    balance,
    dispensed,
    finance_policy,
    lines,
    local,
    organisation_events,
    totals_by_book,
    visit,
)
from tests.support.harness import HandlerHarness, event_of


def claims(harness: HandlerHarness):
    return harness.published("finance.claim.valued.v1")


def test_a_primary_visit_consumes_90_percent_and_a_tertiary_one_80(finance: HandlerHarness):
    primary = visit("QS-T01", eligible="200.00", total="250.00")
    tertiary = visit("QS-H01", eligible="200.00", total="250.00", tier=FacilityTier.TERTIARY)
    result = finance.apply(event_of(primary), event_of(tertiary))
    assert len(result.applied) == 2, result

    by_visit = {c.data.visit_id: c.data for c in claims(finance)}
    assert by_visit[primary.visit_id].fund_payout == Decimal("180.00")
    assert by_visit[primary.visit_id].reimbursement_ratio == Decimal("0.90")
    assert by_visit[primary.visit_id].patient_copay == Decimal("20.00")
    assert by_visit[tertiary.visit_id].fund_payout == Decimal("160.00")
    assert by_visit[tertiary.visit_id].reimbursement_ratio == Decimal("0.80")
    # Both are QS-MC1's: its bundle shows both, cumulatively.
    assert by_visit[tertiary.visit_id].budget_consumed == Decimal("340.00")
    assert by_visit[tertiary.visit_id].budget_id == "BUD-QS-MC1-2026"

    # The bundle (pool account 2201) was consumed by exactly the payouts, and each member
    # is owed its payout by the pool and the rest by the patient.
    consumed = -balance(finance, "2201", community_id="QS-MC1", facility_id=None)
    opening = Decimal("96000000.00")
    assert opening - consumed == Decimal("340.00")
    assert balance(finance, "1215", facility_id="QS-T01") == Decimal("180.00")
    assert balance(finance, "1211", facility_id="QS-T01") == Decimal("70.00")
    assert balance(finance, "4001", facility_id="QS-H01") == Decimal("-250.00")
    assert set(totals_by_book(finance).values()) == {Decimal(0)}


def test_a_redelivered_or_resent_visit_posts_nothing_the_second_time(finance: HandlerHarness):
    once = visit("QS-T02", eligible="99.99")
    first = event_of(once)
    finance.apply(first)
    posted = len(finance.published("finance.journal_entry.posted.v1"))

    again = finance.apply(first)  # the same event redelivered
    assert again.duplicates == [first.id]
    finance.apply(event_of(once))  # the same visit sent again under a new event id
    assert len(finance.published("finance.journal_entry.posted.v1")) == posted
    assert len(claims(finance)) == 1
    assert claims(finance)[0].data.fund_payout == Decimal("89.99")  # 99.99 × 0.9 = 89.991


def test_self_pay_and_other_counties_insurees_do_not_touch_the_bundle(finance: HandlerHarness):
    self_pay = visit("QS-T03", eligible="0.00", total="80.00", insurance=InsuranceType.SELF_PAY)
    visitor = visit("QS-T03", eligible="50.00", total="60.00", insured_in_county=False)
    outsider = visit(
        "OUT-H9",
        eligible="50.00",
        in_county=False,
        insured_in_county=False,
        tier=FacilityTier.TERTIARY,
    )
    result = finance.apply(event_of(self_pay), event_of(visitor), event_of(outsider))
    assert len(result.applied) == 3
    assert not result.dead_lettered
    assert claims(finance) == []
    assert not list(lines(finance, account_code="2201", period="2026-03"))
    # The member's revenue is posted, owed by the patients.
    assert balance(finance, "1211", facility_id="QS-T03") == Decimal("140.00")


def test_care_outside_the_county_drains_the_same_bundle(finance: HandlerHarness):
    outside = visit("OUT-PROV-H1", eligible="1000.00", in_county=False, tier=FacilityTier.TERTIARY)
    finance.apply(event_of(outside))
    (claim,) = claims(finance)
    assert claim.data.fund_payout == Decimal("800.00")
    assert claim.data.community_id == "QS-MC1"  # the policy's out_of_county_community
    assert not claim.data.facility_in_county
    # Only the pool's books: the fund paid the outside hospital from what it owes us.
    (entry,) = [
        e
        for e in finance.published("finance.journal_entry.posted.v1")
        if e.data.entry_type == "visit_claim"
    ]
    assert {(ln.account_code, ln.facility_id) for ln in entry.data.lines} == {
        ("2201", None),
        ("1221", None),
    }


def test_a_visit_at_an_unknown_member_is_dead_lettered(finance: HandlerHarness):
    result = finance.apply(event_of(visit("QS-NOPE")))
    assert [reason for _, reason in result.dead_lettered] == ["unknown_facility"]
    assert claims(finance) == []


def test_postings_are_counted_by_type_once_committed(make_database) -> None:
    registry = CollectorRegistry()
    harness = HandlerHarness(
        "finance",
        make_database("finance"),
        units_of_work=partial(
            FinanceUnitOfWork,
            policy=finance_policy(),
            clock=COUNTY_CLOCK,
            postings=postings_counter(registry),
        ),
    )
    harness.apply(*organisation_events())
    result = harness.apply(
        event_of(visit("QS-T01")),
        event_of(visit("QS-T01", when=local(2024, 1, 5))),  # no budget: dead-lettered
        event_of(dispensed("QS-T01")),
    )
    assert [reason for _, reason in result.dead_lettered] == ["no_budget"]

    def count(entry_type: str) -> float:
        value = registry.get_sample_value("finance_postings_total", {"entry_type": entry_type})
        return value or 0.0

    assert (count("visit_claim"), count("dispense"), count("budget_prepayment")) == (1, 1, 1)
    harness.close()
