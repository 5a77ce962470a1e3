"""Visits: each one posted; a county insuree's valued against the community's bundle.

The rules (who pays, at what ratio, the posting, what a claim consumes) are in
``domain/claims.py``; this use case loads the member and the budget, lets the domain decide,
saves the claim and announces it.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from libs.events.catalogue.finance import BudgetThresholdCrossed, ClaimValued
from libs.events.catalogue.ingestion import VisitRecorded
from libs.events.catalogue.values import FacilityTier
from services.finance.adapters.schema import Budget, Claim
from services.finance.domain import bundle, claims
from services.finance.domain.claims import VisitTerms
from services.finance.domain.journal import Book
from services.finance.domain.periods import period_of, year_of
from services.finance.service_layer.budgets import budget_for_claim
from services.finance.service_layer.ledger import (
    PostingPeriod,
    entry_exists,
    post,
    posting_period,
)
from services.finance.service_layer.unit_of_work import FinanceUnitOfWork

__all__ = ["record_visit"]


def record_visit(visit: VisitRecorded, uow: FinanceUnitOfWork) -> None:
    """Post a visit and, for a county insuree, value it against the bundle."""
    key = claims.visit_key(visit)
    terms = claims.visit_terms(visit, _member_of(uow, visit), uow.policy)
    period = period_of(visit.occurred_at, uow.clock)
    if terms.ratio is None:
        _post_unpaid_visit(uow, visit, terms, key, period)
        return
    if uow.records.has_claim(key):
        return  # the same visit sent again: valued once
    at = posting_period(uow, period)
    budget = budget_for_claim(uow, terms.community, year_of(period))
    valuation = bundle.value_visit(visit.eligible_amount, terms.ratio)
    entry = claims.claim_entry(visit, terms, valuation, budget.budget_id)
    posted = post(uow, entry, at, occurred_at=visit.occurred_at, source_key=key) if entry else None
    claims.charge(budget, valuation.payout, in_county=terms.in_county)
    claim = _claim(visit, key, terms, valuation, budget, at, posted.entry_id if posted else None)
    uow.records.add_claim(claim)
    uow.publish(_claim_valued(visit, claim, terms, valuation, budget, uow.clock.now()))
    _watch_pace(uow, budget, visit, period)


def _member_of(uow: FinanceUnitOfWork, visit: VisitRecorded) -> tuple[Book, FacilityTier] | None:
    """The books and tier of the member the visit happened at (``None`` outside the county);
    the community's own record of the facility's tier, not the HIS's."""
    if not visit.facility_in_county:
        return None
    facility = uow.member_facility(visit.facility_id)
    return Book(facility.community_id, facility.facility_id), FacilityTier(facility.tier)


def _post_unpaid_visit(
    uow: FinanceUnitOfWork, visit: VisitRecorded, terms: VisitTerms, key: str, period: str
) -> None:
    """Post a member's visit the bundle does not pay (nothing outside the county)."""
    if terms.member is None or entry_exists(uow, key):
        return  # not in our books, or posted already
    entry = claims.unpaid_visit_entry(visit, terms.member)
    if entry is not None:
        at = posting_period(uow, period)
        post(uow, entry, at, occurred_at=visit.occurred_at, source_key=key)


def _claim(
    visit: VisitRecorded,
    key: str,
    terms: VisitTerms,
    valuation: bundle.Valuation,
    budget: Budget,
    at: PostingPeriod,
    entry_id: str | None,
) -> Claim:
    return Claim(
        claim_id=f"CLM-{uuid.uuid4().hex}",
        visit_key=key,
        visit_id=visit.visit_id,
        facility_id=visit.facility_id,
        community_id=terms.community,
        budget_id=budget.budget_id,
        period=at.period,
        in_county=terms.in_county,
        facility_tier=terms.tier.value,
        insurance_type=visit.insurance_type.value,
        eligible_amount=visit.eligible_amount,
        ratio=valuation.ratio,
        payout=valuation.payout,
        copay=valuation.copay,
        occurred_at=visit.occurred_at,
        entry_id=entry_id,
    )


def _claim_valued(
    visit: VisitRecorded,
    claim: Claim,
    terms: VisitTerms,
    valuation: bundle.Valuation,
    budget: Budget,
    valued_at: datetime,
) -> ClaimValued:
    return ClaimValued(
        claim_id=claim.claim_id,
        visit_id=visit.visit_id,
        facility_id=visit.facility_id,
        facility_tier=terms.tier,
        facility_in_county=visit.facility_in_county,
        insurance_type=visit.insurance_type,
        eligible_amount=visit.eligible_amount,
        reimbursement_ratio=valuation.ratio,
        fund_payout=valuation.payout,
        patient_copay=valuation.copay,
        community_id=terms.community,
        period=claim.period,
        budget_id=budget.budget_id,
        budget_consumed=budget.consumed,
        budget_total=budget.total,
        occurred_at=visit.occurred_at,
        valued_at=valued_at,
    )


def _watch_pace(uow: FinanceUnitOfWork, budget: Budget, visit: VisitRecorded, period: str) -> None:
    """Announce each threshold rule the budget has just crossed ahead of the calendar."""
    crossed = bundle.thresholds_crossed(
        uow.policy.bundle.thresholds,
        total=budget.total,
        consumed=budget.consumed,
        month=claims.pace_month(period, budget.year),
        already=set(budget.thresholds_crossed),
    )
    if not crossed:
        return
    budget.thresholds_crossed = [*budget.thresholds_crossed, *(rule.key for rule in crossed)]
    day = uow.clock.date_of(visit.occurred_at)
    for rule in crossed:
        uow.publish(
            BudgetThresholdCrossed(
                budget_id=budget.budget_id,
                community_id=budget.community_id,
                year=budget.year,
                threshold=rule.share,
                consumed_share=bundle.consumed_share(budget.consumed, budget.total),
                calendar_share=claims.pace_calendar_share(day, budget.year),
                consumed_amount=budget.consumed,
                total_amount=budget.total,
                crossed_at=uow.clock.now(),
            )
        )
