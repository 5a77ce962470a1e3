"""Referral and expert-session fees by the tariff, and appraisal points."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from libs.events.catalogue.values import ReferralDirection, ReferralPriority
from services.finance.adapters.schema import AppraisalPoints
from tests.support.finance import balance, referral, session
from tests.support.harness import HandlerHarness, event_of


def points(harness: HandlerHarness) -> dict[str, Decimal]:
    with harness.database.sessions() as s:
        return {p.staff_id: p.points for p in s.scalars(select(AppraisalPoints))}


def test_an_upward_referral_is_paid_by_the_hospital_to_the_referring_clinic(
    finance: HandlerHarness,
):
    finance.apply(event_of(referral("QS-T01", "QS-H01", priority=ReferralPriority.URGENT)))
    assert balance(finance, "4101", facility_id="QS-T01") == Decimal("-50.00")
    assert balance(finance, "5101", facility_id="QS-H01") == Decimal("50.00")
    assert points(finance) == {"TEAM-QS-T01": Decimal("3.00"), "TEAM-QS-H01": Decimal("2.00")}


def test_a_downward_referral_is_paid_to_the_clinic_taking_over_care(finance: HandlerHarness):
    finance.apply(event_of(referral("QS-H02", "QS-T06", direction=ReferralDirection.DOWN)))
    assert balance(finance, "1216", facility_id="QS-T06") == Decimal("60.00")
    assert balance(finance, "2306", facility_id="QS-H02") == Decimal("-60.00")


def test_an_expert_session_is_paid_by_the_host_and_earns_the_expert_points(
    finance: HandlerHarness,
):
    delivered = session("S-CARD-01", home="QS-H01", at="QS-T03", patients=12, home_visits=1)
    first = event_of(delivered)
    finance.apply(first, first)
    finance.apply(event_of(delivered))  # sent again under a new id
    fee = Decimal("300.00") + 12 * Decimal("10.00") + Decimal("30.00")
    assert balance(finance, "5101", facility_id="QS-T03") == fee
    assert balance(finance, "4101", facility_id="QS-H01") == -fee
    assert points(finance) == {"S-CARD-01": Decimal("18.00")}  # 10 + 12 × 0.5 + 1 × 2
