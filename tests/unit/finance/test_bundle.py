"""The bundle's arithmetic: valuation, pace, provisional payments, reconciliation."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from libs.events.catalogue.values import FacilityTier, InsuranceType
from services.finance.domain import bundle
from services.finance.domain.policy import ThresholdRule
from tests.support.finance import finance_policy

D = Decimal
POLICY = finance_policy()


@pytest.mark.parametrize(
    ("tier", "ratio"),
    [
        (FacilityTier.PRIMARY, D("0.90")),
        (FacilityTier.SECONDARY, D("0.85")),
        (FacilityTier.TERTIARY, D("0.80")),
    ],
)
def test_the_seed_table_reimburses_by_tier(tier: FacilityTier, ratio: Decimal) -> None:
    for insurance in (InsuranceType.URBAN_EMPLOYEE, InsuranceType.URBAN_RURAL_RESIDENT):
        assert POLICY.reimbursement.ratio(tier, insurance, in_county=True) == ratio
    assert POLICY.reimbursement.ratio(tier, InsuranceType.SELF_PAY, in_county=True) is None


def test_a_payout_is_rounded_half_up_to_the_cent() -> None:
    assert bundle.value_visit(D("0.05"), D("0.90")) == bundle.Valuation(
        D("0.90"), D("0.05"), D("0.00")
    )  # 0.045 → 0.05
    valued = bundle.value_visit(D("123.45"), D("0.85"))
    assert (valued.payout, valued.copay) == (D("104.93"), D("18.52"))  # 104.9325


def test_thresholds_fire_only_ahead_of_the_calendar_and_once() -> None:
    rules = [ThresholdRule(share=D("0.80"), by_month=8), ThresholdRule(share=D("0.5"), by_month=5)]
    crossed = bundle.thresholds_crossed(
        rules, total=D("1000.00"), consumed=D("800.00"), month=8, already=set()
    )
    assert [r.key for r in crossed] == ["0.80@8"]
    assert not bundle.thresholds_crossed(
        rules, total=D("1000.00"), consumed=D("800.00"), month=9, already=set()
    )
    assert not bundle.thresholds_crossed(
        rules, total=D("1000.00"), consumed=D("999.00"), month=3, already={"0.80@8", "0.5@5"}
    )
    assert not bundle.thresholds_crossed(
        rules, total=D("1000.00"), consumed=D("799.99"), month=1, already={"0.5@5"}
    )


def test_provisional_payments_draw_down_the_prepayment_and_stay_within_the_budget() -> None:
    def pay(in_county: str, paid: str = "0", outside: str = "0") -> Decimal:
        return bundle.provisional_payment(
            total=D("1000.00"),
            prepaid=D("100.00"),
            paid_provisional=D(paid),
            in_county_consumed=D(in_county),
            out_of_county_consumed=D(outside),
            withholding=D("0.05"),
        )

    assert pay("100.00") == 0  # 95.00 due, 100.00 prepaid
    assert pay("300.00") == D("185.00")  # 285 − 100
    assert pay("300.00", paid="185.00") == 0  # nothing new
    assert pay("2000.00", paid="185.00", outside="200.00") == D("515.00")  # capped at budget


def test_the_overspend_bands_apply_in_turn() -> None:
    recon = bundle.reconcile(D("1000.00"), D("1200.00"), POLICY.bundle)
    # 5% of the budget (50.00) shared half: 25.00; the other 150.00 all the community's
    assert (recon.overspend, recon.borne_by_community, recon.borne_by_fund) == (
        D("200.00"),
        D("175.00"),
        D("25.00"),
    )
    small = bundle.reconcile(D("1000.00"), D("1020.00"), POLICY.bundle)
    assert (small.borne_by_community, small.borne_by_fund) == (D("10.00"), D("10.00"))
    surplus = bundle.reconcile(D("1000.00"), D("400.00"), POLICY.bundle)
    assert (surplus.surplus_kept, surplus.surplus_returned, surplus.overspend) == (
        D("600.00"),
        D("0.00"),
        D("0.00"),
    )


def test_a_share_of_the_surplus_can_go_back_to_the_fund() -> None:
    policy = finance_policy(lambda doc: doc["bundle"].update(surplus_kept="0.70"))
    recon = bundle.reconcile(D("1000.00"), D("400.01"), policy.bundle)
    assert (recon.surplus_kept, recon.surplus_returned) == (D("419.99"), D("180.00"))


def test_the_forecast_projects_the_pace_to_year_end() -> None:
    f = bundle.forecast(D("1200.00"), D("600.00"), 2026, date(2026, 4, 30))
    assert f.calendar_share == D("0.328767")  # 120 of 365 days
    assert f.projected_consumption == D("1825.00")
    assert f.projected_surplus == D("-625.00")
    before = bundle.forecast(D("1200.00"), D("0.00"), 2027, date(2026, 4, 30))
    assert before.projected_consumption == 0


def test_the_budget_keeps_its_reconciliation_with_the_final_payment() -> None:
    recon = bundle.reconcile(D("1000.00"), D("1020.00"), POLICY.bundle)
    assert recon.record(D("-5.00")) == {
        "surplus_kept": "0.00",
        "surplus_returned": "0.00",
        "overspend": "20.00",
        "borne_by_community": "10.00",
        "borne_by_fund": "10.00",
        "final_payment": "-5.00",
    }
