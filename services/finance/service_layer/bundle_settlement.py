"""The bundle's money with the fund: the monthly provisional settlement and the year-end
reconciliation (surplus kept or overspend shared), each once per budget and period."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from libs.events.catalogue.finance import BudgetReconciled, BudgetSettled, EntryType
from services.finance.adapters.schema import Budget, Claim, SettlementRun
from services.finance.domain import bundle
from services.finance.domain.journal import ZERO, Book
from services.finance.domain.periods import period_end, year_of
from services.finance.service_layer.budgets import (
    OPEN,
    RECONCILED,
    BudgetNotFound,
    BudgetNotOpen,
)
from services.finance.service_layer.ledger import (
    NotYetDue,
    PostingPeriod,
    ensure_ended,
    post_split,
    posting_period,
)
from services.finance.service_layer.unit_of_work import FinanceUnitOfWork

__all__ = ["PROVISIONAL", "RECONCILIATION", "reconcile_budget", "settle_budgets", "settle_period"]

PROVISIONAL, RECONCILIATION = "budget_provisional", "budget_reconciliation"


def _sum_claims(uow: FinanceUnitOfWork, budget_id: str, *conditions: Any) -> Decimal:
    query = select(func.coalesce(func.sum(Claim.payout), 0)).where(
        Claim.budget_id == budget_id, *conditions
    )
    return Decimal(uow.session.execute(query).scalar_one())


def _member_payments(
    uow: FinanceUnitOfWork, budget: Budget, through: str, run_id: str
) -> dict[Book, Decimal]:
    """The in-county claims not yet paid to their members (through ``through``), marked paid."""
    claims = list(
        uow.session.scalars(
            select(Claim).where(
                Claim.budget_id == budget.budget_id,
                Claim.in_county.is_(True),
                Claim.settlement_run_id.is_(None),
                Claim.period <= through,
            )
        )
    )
    payments: dict[Book, Decimal] = {}
    for claim in claims:
        claim.settlement_run_id = run_id
        if claim.payout:
            book = Book(claim.community_id, claim.facility_id)
            payments[book] = payments.get(book, ZERO) + claim.payout
    return payments


def settle_period(uow: FinanceUnitOfWork, period: str, now: datetime) -> list[BudgetSettled]:
    """The monthly provisional settlement of every open budget for ``period`` (inside the
    caller's unit of work). Each budget is settled once per period."""
    ensure_ended(uow, period, now)
    at = posting_period(uow, period, strict=True)
    budgets = list(
        uow.session.scalars(
            select(Budget)
            .where(Budget.status == OPEN, Budget.year <= year_of(period))
            .order_by(Budget.budget_id)
            .with_for_update()
        )
    )
    settled = []
    for budget in budgets:
        if not uow.records.has_run(PROVISIONAL, period, budget.budget_id):
            settled.append(_settle_budget(uow, budget, period, at, now))
    return settled


def _settle_budget(
    uow: FinanceUnitOfWork, budget: Budget, period: str, at: PostingPeriod, now: datetime
) -> BudgetSettled:
    """One budget's provisional settlement: the fund's payment to the pool and the pool's
    payments to the members for their claims so far."""
    run_id = f"RUN-{uuid.uuid4().hex}"
    through = Claim.period <= period
    in_county = _sum_claims(uow, budget.budget_id, Claim.in_county.is_(True), through)
    out_of_county = _sum_claims(uow, budget.budget_id, Claim.in_county.is_(False), through)
    payment = bundle.provisional_payment(
        total=budget.total,
        prepaid=budget.prepaid,
        paid_provisional=budget.paid_provisional,
        in_county_consumed=in_county,
        out_of_county_consumed=out_of_county,
        withholding=uow.policy.bundle.withholding,
    )
    members = _member_payments(uow, budget, period, run_id)
    post_split(
        uow,
        EntryType.BUDGET_SETTLEMENT,
        f"Provisional settlement {period} of {budget.budget_id}",
        bundle.provisional_settlement_lines(Book.pool(budget.community_id), payment, members),
        at,
        occurred_at=period_end(period, uow.clock),
        source=f"settlement:{budget.budget_id}:{period}",
    )
    budget.paid_provisional += payment
    member_total = sum(members.values(), ZERO)
    uow.records.add_run(
        SettlementRun(
            run_id=run_id,
            kind=PROVISIONAL,
            period=period,
            scope=budget.budget_id,
            total=payment,
            detail={"member_payments": str(member_total)},
            completed_at=now,
        )
    )
    event = BudgetSettled(
        budget_id=budget.budget_id,
        community_id=budget.community_id,
        year=budget.year,
        period=period,
        consumed_in_period=_sum_claims(uow, budget.budget_id, Claim.period == period),
        consumed_to_date=in_county + out_of_county,
        provisional_payment=payment,
        member_payments=member_total,
        settled_at=now,
    )
    uow.publish(event)
    return event


def settle_budgets(uow: FinanceUnitOfWork, period: str) -> list[BudgetSettled]:
    """Run the monthly provisional settlement for ``period`` (one unit of work)."""
    with uow:
        settled = settle_period(uow, period, uow.clock.now())
        uow.commit()
        return settled


def _due_for_reconciliation(uow: FinanceUnitOfWork, budget_id: str, now: datetime) -> Budget:
    """The budget, locked, if it is still open and its year is over."""
    budget = uow.session.get(Budget, budget_id, with_for_update=True)
    if budget is None:
        raise BudgetNotFound(f"budget {budget_id} does not exist")
    if budget.status != OPEN:
        raise BudgetNotOpen(f"budget {budget_id} was reconciled already")
    if now < period_end(f"{budget.year:04d}-12", uow.clock):
        raise NotYetDue(f"the year {budget.year} has not ended yet", "year_not_ended")
    return budget


def reconcile_budget(uow: FinanceUnitOfWork, budget_id: str) -> BudgetReconciled:
    """The year-end reconciliation of one budget, once its year has ended."""
    with uow:
        now = uow.clock.now()
        budget = _due_for_reconciliation(uow, budget_id, now)
        last = f"{budget.year:04d}-12"
        recon = bundle.reconcile(budget.total, budget.consumed, uow.policy.bundle)
        payment = bundle.final_payment(
            recon,
            prepaid=budget.prepaid,
            paid_provisional=budget.paid_provisional,
            out_of_county_consumed=budget.consumed_out_of_county,
        )
        run_id = f"RUN-{uuid.uuid4().hex}"
        members = _member_payments(uow, budget, "9999-12", run_id)
        pool = Book.pool(budget.community_id)
        post_split(
            uow,
            EntryType.BUDGET_RECONCILIATION,
            f"Year-end reconciliation of {budget_id}",
            bundle.reconciliation_lines(pool, recon)
            + bundle.provisional_settlement_lines(pool, payment, members),
            posting_period(uow, last),
            occurred_at=period_end(last, uow.clock),
            source=f"reconciliation:{budget_id}",
        )
        budget.status, budget.reconciled_at = RECONCILED, now
        budget.reconciliation = recon.record(payment)
        uow.records.add_run(
            SettlementRun(
                run_id=run_id,
                kind=RECONCILIATION,
                period=last,
                scope=budget_id,
                total=abs(payment),
                detail=budget.reconciliation,
                completed_at=now,
            )
        )
        event = BudgetReconciled(
            budget_id=budget_id,
            community_id=budget.community_id,
            year=budget.year,
            total_amount=budget.total,
            consumed_amount=budget.consumed,
            surplus_kept=recon.surplus_kept,
            surplus_returned=recon.surplus_returned,
            overspend=recon.overspend,
            overspend_borne_by_community=recon.borne_by_community,
            overspend_borne_by_fund=recon.borne_by_fund,
            final_payment=payment,
            reconciled_at=now,
        )
        uow.publish(event)
        uow.commit()
        return event
