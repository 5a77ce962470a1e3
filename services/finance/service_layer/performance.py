"""Performance pay at period close: each community's fund split by its staff's points."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select

from libs.directory import KnownCommunity
from libs.events.catalogue.finance import EntryType, PerformancePayAllocated, StaffAllocation
from services.finance.adapters.schema import AppraisalPoints, SettlementRun
from services.finance.domain import performance
from services.finance.domain.journal import ZERO, Book, draft, split_by_book
from services.finance.domain.periods import period_end
from services.finance.service_layer.ledger import post, posting_period
from services.finance.service_layer.unit_of_work import FinanceUnitOfWork

__all__ = ["PERFORMANCE", "allocate_performance_pay"]

PERFORMANCE = "performance_pay"


def _communities(uow: FinanceUnitOfWork) -> list[str]:
    known = set(uow.session.scalars(select(KnownCommunity.community_id)))
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
    policy = uow.policy.performance_pay
    at = posting_period(uow, period, strict=True)
    allocated = []
    for community in _communities(uow):
        done = select(SettlementRun.run_id).where(
            SettlementRun.kind == PERFORMANCE,
            SettlementRun.period == period,
            SettlementRun.scope == community,
        )
        if uow.session.execute(done).first() is not None:
            continue
        special = (special_funds or {}).get(community)
        if special is None:
            special = policy.special_fund_per_month.get(community, ZERO)
        fund = performance.fund_amount(special, policy.share_of_special_fund)
        rows = uow.session.execute(
            select(
                AppraisalPoints.staff_id,
                AppraisalPoints.facility_id,
                func.sum(AppraisalPoints.points),
            )
            .where(AppraisalPoints.community_id == community, AppraisalPoints.period == period)
            .group_by(AppraisalPoints.staff_id, AppraisalPoints.facility_id)
        ).all()
        points = {(staff, facility): Decimal(total) for staff, facility, total in rows}
        if not points and not special:
            continue
        shares = performance.allocate(
            fund, points, order={key: f"{key[0]}/{key[1]}" for key in points}
        )
        per_member: dict[Book, Decimal] = defaultdict(lambda: ZERO)
        for (_, facility), amount in shares.items():
            per_member[Book(community, facility)] += amount
        run_id = f"PAY-{uuid.uuid4().hex}"
        if shares:
            lines = performance.pay_lines(Book.pool(community), per_member)
            for n, chunk in enumerate(split_by_book(lines), start=1):
                entry = draft(
                    EntryType.PERFORMANCE_PAY, f"Performance pay {period} of {community}", chunk
                )
                if entry is not None:
                    post(
                        uow,
                        entry,
                        at,
                        occurred_at=period_end(period, uow.policy.tz),
                        source_key=f"performance:{community}:{period}:{n}",
                    )
        allocations = [
            StaffAllocation(
                staff_id=staff,
                facility_id=facility,
                points=points[(staff, facility)],
                amount=amount,
            )
            for (staff, facility), amount in sorted(shares.items())
        ]
        uow.session.add(
            SettlementRun(
                run_id=run_id,
                kind=PERFORMANCE,
                period=period,
                scope=community,
                total=sum(shares.values(), ZERO),
                detail={
                    "special_fund": str(special),
                    "fund": str(fund),
                    "allocations": [a.model_dump(mode="json") for a in allocations],
                },
                completed_at=now,
            )
        )
        event = PerformancePayAllocated(
            allocation_id=run_id,
            period=period,
            community_id=community,
            special_fund_amount=special,
            fund_share=policy.share_of_special_fund,
            # with no points there is nobody to pay: the fund stays in the special fund
            fund_amount=fund if shares else ZERO,
            allocations=allocations,
            allocated_at=now,
        )
        uow.publish(event)
        allocated.append(event)
    return allocated
