"""The insurance bundle's lifecycle: opened and prepaid, settled monthly, reconciled.

The budget row carries the running consumption (one row per community and year, locked by
whoever changes it); the claims table says which claims of which period were paid on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from libs.events.catalogue.finance import (
    BudgetOpened,
    EntryType,
)
from libs.events.retry import PermanentError
from libs.platform.refusals import Conflict, NotFound
from services.finance.adapters.schema import Budget
from services.finance.domain import bundle
from services.finance.domain.journal import ZERO, Book, draft
from services.finance.domain.policy import BudgetPlan
from services.finance.service_layer.ledger import entry_exists, post, posting_period
from services.finance.service_layer.unit_of_work import FinanceUnitOfWork

__all__ = [
    "OPEN",
    "BudgetFigures",
    "BudgetNotFound",
    "BudgetNotOpen",
    "budget_for_claim",
    "budget_status",
    "list_budget_figures",
    "open_due_budgets",
]

OPEN, RECONCILED = "open", "reconciled"


class BudgetNotFound(NotFound):
    def __init__(self, message: str) -> None:
        super().__init__("not_found", message)


class BudgetNotOpen(Conflict):
    """The budget was reconciled already."""

    def __init__(self, message: str) -> None:
        super().__init__("already_reconciled", message)


def _open(uow: FinanceUnitOfWork, plan: BudgetPlan) -> Budget:
    """Open ``plan``'s budget: prepaid at the start of its year (or the first open period)."""
    start = uow.clock.start_of(date(plan.year, 1, 1))
    row = Budget(
        budget_id=plan.budget_id,
        community_id=plan.community_id,
        year=plan.year,
        total=plan.total,
        prepaid=plan.prepayment,
        consumed=ZERO,
        consumed_out_of_county=ZERO,
        paid_provisional=ZERO,
        claims=0,
        thresholds_crossed=[],
        status=OPEN,
        opened_at=uow.clock.now(),
    )
    # A second process opening it at the same moment fails here and retries to find it.
    uow.records.add_budget(row)
    entry = draft(
        EntryType.BUDGET_PREPAYMENT,
        f"Insurance bundle {plan.year} for {plan.community_id}: budget {plan.total}, "
        f"prepaid {plan.prepayment}",
        bundle.opening_lines(Book.pool(plan.community_id), plan.total, plan.prepayment),
    )
    source = f"budget:{plan.budget_id}:opening"
    if entry is not None and not entry_exists(uow, source):
        at = posting_period(uow, f"{plan.year:04d}-01")
        post(uow, entry, at, occurred_at=start, source_key=source)
    uow.publish(
        BudgetOpened(
            budget_id=plan.budget_id,
            community_id=plan.community_id,
            year=plan.year,
            total_amount=plan.total,
            prepaid_amount=plan.prepayment,
            opened_at=row.opened_at,
        )
    )
    return row


def budget_for_claim(uow: FinanceUnitOfWork, community_id: str, year: int) -> Budget:
    """The open budget that pays a claim, opened from the policy if its year has none yet.

    A claim whose year was reconciled already goes to the following year's budget (the
    reconciled figures are final). No budget in the policy: the visit cannot be valued and
    is dead-lettered (``no_budget``); add the budget and replay it.
    """
    while True:
        row = uow.records.budget(community_id, year)
        if row is None:
            plan = uow.policy.bundle.plan(community_id, year)
            if plan is None:
                raise PermanentError(
                    "no_budget", f"no insurance budget for community {community_id} in {year}"
                )
            row = _open(uow, plan)
        if row.status == OPEN:
            return row
        year += 1


def open_due_budgets(uow: FinanceUnitOfWork, today: date) -> list[str]:
    """Open every budget of the policy whose year has begun; returns the ids opened."""
    with uow:
        opened = []
        for plan in uow.policy.bundle.budgets:
            if plan.year <= today.year and uow.records.budget(plan.community_id, plan.year) is None:
                _open(uow, plan)
                opened.append(plan.budget_id)
        uow.commit()
        return opened


@dataclass(frozen=True)
class BudgetFigures:
    """A budget's figures, detached from the database."""

    budget_id: str
    community_id: str
    year: int
    status: str
    total: Decimal
    prepaid: Decimal
    consumed: Decimal
    consumed_out_of_county: Decimal
    paid_provisional: Decimal
    claims: int
    thresholds_crossed: list[str]
    reconciliation: dict[str, Any] | None

    @classmethod
    def of(cls, row: Budget) -> BudgetFigures:
        return cls(
            budget_id=row.budget_id,
            community_id=row.community_id,
            year=row.year,
            status=row.status,
            total=row.total,
            prepaid=row.prepaid,
            consumed=row.consumed,
            consumed_out_of_county=row.consumed_out_of_county,
            paid_provisional=row.paid_provisional,
            claims=row.claims,
            thresholds_crossed=list(row.thresholds_crossed),
            reconciliation=row.reconciliation,
        )


def list_budget_figures(uow: FinanceUnitOfWork) -> list[BudgetFigures]:
    """Every budget, by year and community (read only)."""
    with uow:
        rows = uow.session.scalars(select(Budget).order_by(Budget.year, Budget.community_id))
        return [BudgetFigures.of(row) for row in rows]


def budget_status(uow: FinanceUnitOfWork, budget_id: str) -> tuple[BudgetFigures, bundle.Forecast]:
    """A budget with a straight-line forecast of its year (read only)."""
    with uow:
        budget = uow.session.get(Budget, budget_id)
        if budget is None:
            raise BudgetNotFound(f"budget {budget_id} does not exist")
        today = uow.clock.today()
        forecast = bundle.forecast(budget.total, budget.consumed, budget.year, today)
        return BudgetFigures.of(budget), forecast
