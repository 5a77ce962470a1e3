"""A visit against the county's bundle: who pays for it, its posting, and what it consumes.

- At a member, the visit's charges are the member's revenue; the bundle pays
  ``eligible × ratio`` of them (by the facility's tier and the insurance type), the patient
  the rest. The tier is the community's own record of the facility, not the HIS's.
- A county insuree treated outside the county is paid by the fund directly, from the same
  bundle (that of ``bundle.out_of_county_community``): the pool's books only.
- Self-pay visits and insurees of other counties' funds do not touch the bundle; outside
  the county they are not in our books at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Protocol

from libs.events.catalogue.finance import EntryType
from libs.events.catalogue.ingestion import VisitRecorded
from libs.events.catalogue.values import FacilityTier
from services.finance.domain import bundle
from services.finance.domain.journal import ZERO, Book, EntryDraft, draft
from services.finance.domain.periods import calendar_share, month_of, year_of
from services.finance.domain.policy import FinancePolicy

__all__ = [
    "ConsumingBudget",
    "VisitTerms",
    "charge",
    "claim_entry",
    "pace_calendar_share",
    "pace_month",
    "unpaid_visit_entry",
    "visit_key",
    "visit_terms",
]


def visit_key(visit: VisitRecorded) -> str:
    """The visit as a fact, whatever event id it came under: posted and valued once."""
    return f"visit:{visit.facility_id}/{visit.visit_id}"


@dataclass(frozen=True)
class VisitTerms:
    """How a visit stands with the bundle."""

    member: Book | None
    """The member's books; ``None`` for care outside the county."""
    tier: FacilityTier
    ratio: Decimal | None
    """The bundle's share of the eligible amount; ``None`` when the bundle pays nothing."""
    community: str
    """Whose bundle pays (the out-of-county community's, outside the county)."""

    @property
    def in_county(self) -> bool:
        return self.member is not None


def visit_terms(
    visit: VisitRecorded, member: tuple[Book, FacilityTier] | None, policy: FinancePolicy
) -> VisitTerms:
    """The terms of ``visit``, given the member's books and tier when it happened at one."""
    book, tier = member if member else (None, visit.facility_tier)
    ratio = (
        policy.reimbursement.ratio(tier, visit.insurance_type, in_county=book is not None)
        if visit.insured_in_county
        else None
    )
    community = book.community_id if book else policy.bundle.out_of_county_community
    return VisitTerms(book, tier, ratio, community)


def unpaid_visit_entry(visit: VisitRecorded, member: Book) -> EntryDraft | None:
    """A member's visit the bundle does not pay: all of it owed by the patient."""
    return draft(
        EntryType.VISIT_CLAIM,
        f"Visit {visit.visit_id} at {visit.facility_id}, not paid by the county's bundle",
        bundle.visit_lines(facility=member, pool=None, total=visit.total_amount, payout=ZERO),
    )


def claim_entry(
    visit: VisitRecorded, terms: VisitTerms, valuation: bundle.Valuation, budget_id: str
) -> EntryDraft | None:
    """A visit the bundle pays: the member's revenue and what the pool owes for it."""
    return draft(
        EntryType.VISIT_CLAIM,
        f"Visit {visit.visit_id} at {visit.facility_id}: eligible {visit.eligible_amount} "
        f"x {valuation.ratio} from {budget_id}",
        bundle.visit_lines(
            facility=terms.member,
            pool=Book.pool(terms.community),
            total=visit.total_amount,
            payout=valuation.payout,
        ),
    )


class ConsumingBudget(Protocol):
    """The running figures of a budget that claims consume."""

    consumed: Decimal
    consumed_out_of_county: Decimal
    claims: int


def charge(budget: ConsumingBudget, payout: Decimal, *, in_county: bool) -> None:
    """A claim consumes its payout from the budget (counted apart when outside the county)."""
    budget.consumed += payout
    if not in_county:
        budget.consumed_out_of_county += payout
    budget.claims += 1


def pace_month(period: str, budget_year: int) -> int:
    """The month of the budget's year a claim of ``period`` is paced against (a claim of
    another year, carried into this budget, is paced as at the year's end)."""
    return month_of(period) if year_of(period) == budget_year else 12


def pace_calendar_share(day: date, budget_year: int) -> Decimal:
    """How much of the budget's year had passed on ``day`` (all of it, in a later year)."""
    return calendar_share(day) if day.year == budget_year else Decimal(1)
