"""Performance pay at period close: each community's fund split by its staff's points.

How the fund is split is the domain's (``domain/performance.py``); this use case loads each
community's points, posts and records the split and announces it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal

from libs.events.catalogue.finance import EntryType, PerformancePayAllocated, StaffAllocation
from services.finance.adapters.schema import SettlementRun
from services.finance.domain import performance
from services.finance.domain.periods import period_end
from services.finance.service_layer.ledger import PostingPeriod, post_split, posting_period
from services.finance.service_layer.unit_of_work import FinanceUnitOfWork

__all__ = ["PERFORMANCE", "allocate_performance_pay"]

PERFORMANCE = "performance_pay"


def _communities(uow: FinanceUnitOfWork) -> list[str]:
    known = uow.records.communities()
    known |= set(uow.policy.performance_pay.special_fund_per_month)
    return sorted(known)


def allocate_performance_pay(
    uow: FinanceUnitOfWork,
    period: str,
    now: datetime,
    special_funds: Mapping[str, Decimal] | None = None,
) -> list[PerformancePayAllocated]:
    """Distribute each community's performance fund for ``period`` by points (in the
    caller's unit of work); a community already allocated for the period is skipped."""
    at = posting_period(uow, period, strict=True)
    allocated = []
    for community in _communities(uow):
        if uow.records.has_run(PERFORMANCE, period, community):
            continue
        split = performance.allocation(
            community,
            uow.records.appraisal_points(community, period),
            uow.policy.performance_pay,
            (special_funds or {}).get(community),
        )
        if split is None:
            continue
        allocated.append(_pay(uow, split, period, at, now))
    return allocated


def _pay(
    uow: FinanceUnitOfWork,
    split: performance.Allocation,
    period: str,
    at: PostingPeriod,
    now: datetime,
) -> PerformancePayAllocated:
    """Post one community's performance pay, record the run and announce it."""
    run_id = f"PAY-{uuid.uuid4().hex}"
    post_split(
        uow,
        EntryType.PERFORMANCE_PAY,
        f"Performance pay {period} of {split.community_id}",
        split.lines(),
        at,
        occurred_at=period_end(period, uow.clock),
        source=f"performance:{split.community_id}:{period}",
    )
    allocations = [
        StaffAllocation(
            staff_id=staff,
            facility_id=facility,
            points=split.points[(staff, facility)],
            amount=amount,
        )
        for (staff, facility), amount in sorted(split.shares.items())
    ]
    uow.records.add_run(
        SettlementRun(
            run_id=run_id,
            kind=PERFORMANCE,
            period=period,
            scope=split.community_id,
            total=split.total,
            detail={
                "special_fund": str(split.special_fund),
                "fund": str(split.fund),
                "allocations": [a.model_dump(mode="json") for a in allocations],
            },
            completed_at=now,
        )
    )
    event = PerformancePayAllocated(
        allocation_id=run_id,
        period=period,
        community_id=split.community_id,
        special_fund_amount=split.special_fund,
        fund_share=uow.policy.performance_pay.share_of_special_fund,
        fund_amount=split.paid,
        allocations=allocations,
        allocated_at=now,
    )
    uow.publish(event)
    return event
