"""Closing an accounting period: settle it, pay performance, then refuse postings in it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from libs.events.catalogue.finance import (
    BudgetSettled,
    PerformancePayAllocated,
    PeriodClosed,
    SettlementCompleted,
)
from libs.platform.refusals import Conflict
from services.finance.adapters.schema import AccountingPeriod
from services.finance.service_layer.bundle_settlement import settle_period
from services.finance.service_layer.internal_settlement import settle_internal
from services.finance.service_layer.ledger import CLOSED, ensure_ended, lock_period
from services.finance.service_layer.performance import allocate_performance_pay
from services.finance.service_layer.unit_of_work import FinanceUnitOfWork

__all__ = ["AlreadyClosed", "PeriodClose", "close_period"]


class AlreadyClosed(Conflict):
    def __init__(self, message: str) -> None:
        super().__init__("period_closed", message)


@dataclass
class PeriodClose:
    closed: PeriodClosed
    budgets: list[BudgetSettled] = field(default_factory=list)
    internal: SettlementCompleted | None = None
    performance: list[PerformancePayAllocated] = field(default_factory=list)


def close_period(
    uow: FinanceUnitOfWork, period: str, special_funds: Mapping[str, Decimal] | None = None
) -> PeriodClose:
    """Close ``period`` in one transaction: the bundle's provisional settlement and the
    internal settlement (unless they ran already), the performance-pay allocation, then the
    close itself. Postings for the period that arrive later go to the next open period."""
    with uow:
        now = uow.clock.now()
        ensure_ended(uow, period, now)
        # The exclusive lock waits for postings in flight and keeps new ones out until done.
        if lock_period(uow.session, period, exclusive=True) == CLOSED:
            raise AlreadyClosed(f"period {period} is closed already")
        result = PeriodClose(
            closed=PeriodClosed(period=period, closed_at=now),
            budgets=settle_period(uow, period, now),
            internal=settle_internal(uow, period, now),
            performance=allocate_performance_pay(uow, period, now, special_funds),
        )
        row = uow.session.get(AccountingPeriod, period)
        assert row is not None  # lock_period created it
        row.status, row.closed_at = CLOSED, now
        uow.publish(result.closed)
        uow.commit()
        return result
