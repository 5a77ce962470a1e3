"""Visits: each one posted; a county insuree's valued against the community's bundle.

- At a member, the visit's charges are the member's revenue; the bundle pays
  ``eligible × ratio`` of them (by the facility's tier and the insurance type), the patient
  the rest.
- A county insuree treated outside the county is paid by the fund directly, from the same
  bundle (that of ``bundle.out_of_county_community``): the pool's books only.
- Self-pay visits and insurees of other counties' funds do not touch the bundle; outside
  the county they are not in our books at all.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from sqlalchemy import select

from libs.events.catalogue.finance import BudgetThresholdCrossed, ClaimValued, EntryType
from libs.events.catalogue.ingestion import VisitRecorded
from libs.events.catalogue.values import FacilityTier
from libs.events.envelope import utc_now
from services.finance.adapters.schema import Budget, Claim
from services.finance.domain import bundle
from services.finance.domain.journal import ZERO, Book, draft
from services.finance.domain.periods import (
    calendar_share,
    local_date,
    month_of,
    period_of,
    year_of,
)
from services.finance.service_layer.budgets import budget_for_claim
from services.finance.service_layer.ledger import entry_exists, post, posting_period
from services.finance.service_layer.unit_of_work import FinanceUnitOfWork

__all__ = ["record_visit"]


def record_visit(visit: VisitRecorded, uow: FinanceUnitOfWork) -> None:
    """Post a visit and, for a county insuree, value it against the bundle."""
    policy = uow.policy
    key = f"visit:{visit.facility_id}/{visit.visit_id}"
    member: Book | None = None
    tier = visit.facility_tier
    if visit.facility_in_county:
        # the community's own record of the facility's tier, not the HIS's
        facility = uow.member_facility(visit.facility_id)
        member, tier = (
            Book(facility.community_id, facility.facility_id),
            FacilityTier(facility.tier),
        )
    ratio = (
        policy.reimbursement.ratio(tier, visit.insurance_type, in_county=visit.facility_in_county)
        if visit.insured_in_county
        else None
    )
    period = period_of(visit.occurred_at, policy.tz)
    if ratio is None:
        if member is None or entry_exists(uow, key):
            return  # not in our books, or posted already
        entry = draft(
            EntryType.VISIT_CLAIM,
            f"Visit {visit.visit_id} at {visit.facility_id}, not paid by the county's bundle",
            bundle.visit_lines(facility=member, pool=None, total=visit.total_amount, payout=ZERO),
        )
        if entry is not None:
            at = posting_period(uow, period)
            post(uow, entry, at, occurred_at=visit.occurred_at, source_key=key)
        return
    if uow.session.execute(select(Claim.claim_id).where(Claim.visit_key == key)).first():
        return  # the same visit sent again: valued once
    community = member.community_id if member else policy.bundle.out_of_county_community
    at = posting_period(uow, period)
    budget = budget_for_claim(uow, community, year_of(period))
    valuation = bundle.value_visit(visit.eligible_amount, ratio)
    entry = draft(
        EntryType.VISIT_CLAIM,
        f"Visit {visit.visit_id} at {visit.facility_id}: eligible {visit.eligible_amount} "
        f"x {ratio} from {budget.budget_id}",
        bundle.visit_lines(
            facility=member,
            pool=Book.pool(community),
            total=visit.total_amount,
            payout=valuation.payout,
        ),
    )
    posted = post(uow, entry, at, occurred_at=visit.occurred_at, source_key=key) if entry else None
    budget.consumed += valuation.payout
    if member is None:
        budget.consumed_out_of_county += valuation.payout
    budget.claims += 1
    claim_id = f"CLM-{uuid.uuid4().hex}"
    uow.session.add(
        Claim(
            claim_id=claim_id,
            visit_key=key,
            visit_id=visit.visit_id,
            facility_id=visit.facility_id,
            community_id=community,
            budget_id=budget.budget_id,
            period=at.period,
            in_county=member is not None,
            facility_tier=tier.value,
            insurance_type=visit.insurance_type.value,
            eligible_amount=visit.eligible_amount,
            ratio=ratio,
            payout=valuation.payout,
            copay=valuation.copay,
            occurred_at=visit.occurred_at,
            entry_id=posted.entry_id if posted else None,
        )
    )
    now = utc_now()
    uow.publish(
        ClaimValued(
            claim_id=claim_id,
            visit_id=visit.visit_id,
            facility_id=visit.facility_id,
            facility_tier=tier,
            facility_in_county=visit.facility_in_county,
            insurance_type=visit.insurance_type,
            eligible_amount=visit.eligible_amount,
            reimbursement_ratio=ratio,
            fund_payout=valuation.payout,
            patient_copay=valuation.copay,
            community_id=community,
            period=at.period,
            budget_id=budget.budget_id,
            budget_consumed=budget.consumed,
            budget_total=budget.total,
            occurred_at=visit.occurred_at,
            valued_at=now,
        )
    )
    _watch_pace(uow, budget, visit, period)


def _watch_pace(uow: FinanceUnitOfWork, budget: Budget, visit: VisitRecorded, period: str) -> None:
    """Announce each threshold rule the budget has just crossed ahead of the calendar."""
    month = month_of(period) if year_of(period) == budget.year else 12
    crossed = bundle.thresholds_crossed(
        uow.policy.bundle.thresholds,
        total=budget.total,
        consumed=budget.consumed,
        month=month,
        already=set(budget.thresholds_crossed),
    )
    if not crossed:
        return
    budget.thresholds_crossed = [*budget.thresholds_crossed, *(rule.key for rule in crossed)]
    day = local_date(visit.occurred_at, uow.policy.tz)
    for rule in crossed:
        uow.publish(
            BudgetThresholdCrossed(
                budget_id=budget.budget_id,
                community_id=budget.community_id,
                year=budget.year,
                threshold=rule.share,
                consumed_share=bundle.consumed_share(budget.consumed, budget.total),
                calendar_share=calendar_share(day) if day.year == budget.year else Decimal(1),
                consumed_amount=budget.consumed,
                total_amount=budget.total,
                crossed_at=utc_now(),
            )
        )
