"""Month end and year end: settlements, performance pay, closing, reconciliation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest

from libs.events.catalogue.values import FacilityTier
from services.finance.service_layer import bundle_settlement, periods
from services.finance.service_layer.ledger import NotYetDue
from tests.support.finance import (
    balance,
    current_period,
    finance_harness,
    finance_policy,
    fuow,
    local,
    referral,
    session,
    totals_by_book,
    transfer,
    visit,
)
from tests.support.harness import HandlerHarness, event_of


def close(harness: HandlerHarness, period: str, **funds: str) -> periods.PeriodClose:
    special = {community: Decimal(amount) for community, amount in funds.items()}
    return periods.close_period(fuow(harness), period, special)


def test_a_period_close_allocates_the_whole_performance_fund_to_the_cent(
    finance: HandlerHarness,
):
    day = date(2026, 4, 8)
    finance.apply(
        *(
            event_of(session(staff, home="QS-H01", at="QS-T02", patients=4, home_visits=0, day=day))
            for staff in ("S-A", "S-B", "S-C")
        ),
        event_of(referral("QS-T01", "QS-H01", when=local(2026, 4, 9))),
    )
    # 34% of 100,000.01 is 34,000.0034: the fund is 34,000.00, split 12 : 12 : 12 : 3 : 2.
    result = close(finance, "2026-04", **{"QS-MC1": "100000.01"})
    (pay,) = [p for p in result.performance if p.community_id == "QS-MC1"]
    assert pay.fund_amount == Decimal("34000.00")
    amounts = {a.staff_id: a.amount for a in pay.allocations}
    assert sum(amounts.values()) == Decimal("34000.00")
    assert set(amounts) == {"S-A", "S-B", "S-C", "TEAM-QS-T01", "TEAM-QS-H01"}
    # 34000 × 12/41 = 9951.219...: the 2 spare cents go to the largest remainders.
    assert sorted(amounts.values()) == sorted(
        [
            Decimal("9951.22"),
            Decimal("9951.22"),
            Decimal("9951.22"),
            Decimal("2487.80"),
            Decimal("1658.54"),
        ]
    )
    # The ledger carries exactly the fund: paid from the pool, owed to staff by members.
    assert balance(finance, "5303", community_id="QS-MC1") == Decimal("34000.00")
    assert -balance(finance, "2215", community_id="QS-MC1") == Decimal("34000.00")
    (event,) = [
        e
        for e in finance.published("finance.performance_pay.allocated.v1")
        if e.data.community_id == "QS-MC1"
    ]
    assert event.data == pay
    assert finance.published("finance.period.closed.v1")[0].data.period == "2026-04"


def test_after_a_close_a_late_event_posts_in_the_next_open_period(finance: HandlerHarness):
    close(finance, "2026-05")
    with pytest.raises(periods.AlreadyClosed):
        close(finance, "2026-05")
    late = visit("QS-T04", eligible="10.00", when=local(2026, 5, 30))
    finance.apply(event_of(late))
    (entry,) = [
        e.data
        for e in finance.published("finance.journal_entry.posted.v1")
        if e.data.entry_type == "visit_claim"
    ]
    assert (entry.period, entry.original_period) == ("2026-06", "2026-05")
    assert finance.published("finance.claim.valued.v1")[0].data.period == "2026-06"


def test_a_period_that_has_not_ended_cannot_be_closed(finance: HandlerHarness):
    with pytest.raises(NotYetDue):
        close(finance, current_period())


def test_month_end_settles_what_members_owe_each_other(finance: HandlerHarness):
    finance.apply(
        event_of(
            transfer("QS-H01", "QS-T01", packs=10, unit_price="2.5000", when=local(2026, 2, 3))
        ),
        event_of(referral("QS-T01", "QS-H01", when=local(2026, 2, 4))),  # H01 owes T01 30.00
        event_of(
            transfer("QS-H02", "QS-T05", packs=4, unit_price="5.0000", when=local(2026, 2, 5))
        ),
    )
    result = close(finance, "2026-02")
    assert result.internal is not None
    assert result.internal.total_amount == Decimal("75.00")
    assert {
        (ln.payer_facility_id, ln.payee_facility_id, ln.kind.value, ln.amount)
        for ln in result.internal.lines
    } == {
        ("QS-T01", "QS-H01", "drug_transfer", Decimal("25.00")),
        ("QS-H01", "QS-T01", "referral_fee", Decimal("30.00")),
        ("QS-T05", "QS-H02", "drug_transfer", Decimal("20.00")),
    }
    for member in ("QS-H01", "QS-T01", "QS-H02", "QS-T05"):
        assert balance(finance, "1216", facility_id=member) == 0
        assert balance(finance, "2306", facility_id=member) == 0
    (paid,) = [
        e.data
        for e in finance.published("finance.journal_entry.posted.v1")
        if e.data.entry_type == "internal_settlement"
    ]
    bank = {ln.facility_id: ln.debit - ln.credit for ln in paid.lines if ln.account_code == "1002"}
    assert bank == {  # each member's bank moves by its net: T01 gets 30.00 and pays 25.00
        "QS-T01": Decimal("5.00"),
        "QS-H01": Decimal("-5.00"),
        "QS-T05": Decimal("-20.00"),
        "QS-H02": Decimal("20.00"),
    }


def test_a_bundle_year_settled_monthly_and_reconciled_with_a_surplus(finance: HandlerHarness):
    # 2025: QS-MC1's budget is 1,000,000.00, 100,000.00 of it prepaid; withholding 5%.
    finance.apply(event_of(visit("QS-T01", eligible="150000.00", when=local(2025, 2, 10))))
    (settled,) = [
        s
        for s in bundle_settlement.settle_budgets(fuow(finance), "2025-02")
        if s.budget_id == "BUD-QS-MC1-2025"
    ]
    # in-county claims 135,000.00 less 5% withheld = 128,250.00, less the prepayment
    assert settled.provisional_payment == Decimal("28250.00")
    assert settled.member_payments == Decimal("135000.00")
    assert balance(finance, "1215", facility_id="QS-T01") == 0  # the member was paid

    reconciled = bundle_settlement.reconcile_budget(fuow(finance), "BUD-QS-MC1-2025")
    assert reconciled.surplus_kept == Decimal("865000.00")
    assert reconciled.final_payment == Decimal("871750.00")  # 1,000,000 - 100,000 - 28,250
    pool = {"community_id": "QS-MC1", "facility_id": None}
    assert balance(finance, "4201", **pool) == Decimal("-865000.00")
    # Nothing left owed by the fund or to members, nothing left unconsumed; the pool's bank
    # holds the surplus.
    for cleared in ("1221", "2241", "2201"):
        assert balance(finance, cleared, **pool) == 0
    assert balance(finance, "1003", **pool) == Decimal("865000.00")
    with pytest.raises(bundle_settlement.BudgetNotOpen):
        bundle_settlement.reconcile_budget(fuow(finance), "BUD-QS-MC1-2025")


def test_an_overspent_year_is_shared_by_the_policys_bands(finance: HandlerHarness):
    # QS-MC2 2025: budget 800,000.00; claims 900,000.00 → overspend 100,000.00. The first 5%
    # of the budget (40,000) is shared half and half, the rest borne by the community.
    finance.apply(event_of(visit("QS-T05", eligible="1000000.00", when=local(2025, 6, 1))))
    reconciled = bundle_settlement.reconcile_budget(fuow(finance), "BUD-QS-MC2-2025")
    assert reconciled.overspend == Decimal("100000.00")
    assert reconciled.overspend_borne_by_community == Decimal("80000.00")
    assert reconciled.overspend_borne_by_fund == Decimal("20000.00")
    # prepaid 80,000: the fund still owes 800,000 + 20,000 - 80,000
    assert reconciled.final_payment == Decimal("740000.00")
    pool = {"community_id": "QS-MC2", "facility_id": None}
    assert balance(finance, "5302", **pool) == Decimal("80000.00")
    for cleared in ("1221", "2241", "2201"):
        assert balance(finance, cleared, **pool) == 0
    assert balance(finance, "1003", **pool) == Decimal("-80000.00")  # the community's share
    assert set(totals_by_book(finance).values()) == {Decimal(0)}


def test_the_bundle_warns_when_it_runs_ahead_of_the_calendar(finance: HandlerHarness):
    # 81% of QS-MC1's 2025 budget used in March: past 50%-by-May and 80%-by-August.
    finance.apply(event_of(visit("QS-T02", eligible="900000.00", when=local(2025, 3, 3))))
    finance.apply(event_of(visit("QS-T02", eligible="10.00", when=local(2025, 3, 4))))
    crossed = finance.published("finance.budget.threshold_crossed.v1")
    assert sorted(e.data.threshold for e in crossed) == [Decimal("0.50"), Decimal("0.80")]
    assert {e.data.consumed_share for e in crossed} == {Decimal("0.81")}
    assert all(e.data.calendar_share < Decimal("0.2") for e in crossed)


def test_a_visit_in_a_year_without_a_budget_is_dead_lettered(make_database: Callable):
    harness = finance_harness(make_database("finance"), finance_policy())
    result = harness.apply(event_of(visit("QS-T01", when=local(2024, 6, 1))))
    assert [reason for _, reason in result.dead_lettered] == ["no_budget"]
    harness.close()


def test_out_of_county_care_is_not_paid_to_members(finance: HandlerHarness):
    finance.apply(
        event_of(
            visit(
                "OUT-H7",
                eligible="1000.00",
                in_county=False,
                tier=FacilityTier.SECONDARY,
                when=local(2025, 1, 20),
            )
        )
    )
    (settled,) = [
        s
        for s in bundle_settlement.settle_budgets(fuow(finance), "2025-01")
        if s.budget_id == "BUD-QS-MC1-2025"
    ]
    assert settled.consumed_in_period == Decimal("850.00")
    assert settled.member_payments == 0
    assert settled.provisional_payment == 0
