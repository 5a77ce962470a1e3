"""Admin HTTP for internal settlement runs, accounting periods and performance pay."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from libs.events.payload import Amount, Identifier
from libs.platform.http.pagination import Page, PageDep
from services.finance.adapters.schema import AccountingPeriod, SettlementRun
from services.finance.api.access import (
    CentralReader,
    FinanceCentre,
    FinanceUow,
    PeriodPath,
    PeriodQuery,
)
from services.finance.service_layer import internal_settlement, periods, queries
from services.finance.service_layer.performance import PERFORMANCE

router = APIRouter(tags=["settlements and periods"])


class CloseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    special_funds: dict[Identifier, Amount] = Field(
        default_factory=dict,
        description="Each community's special fund for the period; default: the policy's.",
    )


@router.get("/settlements", summary="Settlement runs, newest first")
def list_runs(
    _: CentralReader,
    uow: FinanceUow,
    page: PageDep,
    kind: str | None = None,
    period: PeriodQuery = None,
) -> Page[dict[str, Any]]:
    with uow:
        items, total = queries.settlement_runs(uow.session, kind, period, page.limit, page.offset)
    return page.of(items, total=total)


@router.post(
    "/settlements/internal/{period}",
    status_code=status.HTTP_201_CREATED,
    summary="Pay what members owe each other (transfers, referral and session fees)",
)
def settle_internal(period: PeriodPath, _: FinanceCentre, uow: FinanceUow) -> dict[str, Any]:
    event = internal_settlement.run_internal_settlement(uow, period)
    return event.model_dump(mode="json")


@router.get("/periods", summary="Accounting periods posted in or closed")
def list_periods(_: CentralReader, uow: FinanceUow) -> list[dict[str, Any]]:
    with uow:
        rows = uow.session.scalars(select(AccountingPeriod).order_by(AccountingPeriod.period))
        return [{"period": r.period, "status": r.status, "closed_at": r.closed_at} for r in rows]


@router.post(
    "/periods/{period}/close",
    summary="Close a period: settle it, allocate performance pay, refuse further postings",
)
def close_period(
    period: PeriodPath, _: FinanceCentre, uow: FinanceUow, body: CloseIn | None = None
) -> dict[str, Any]:
    funds: dict[str, Decimal] = dict(body.special_funds) if body else {}
    result = periods.close_period(uow, period, funds)
    return {
        "period": period,
        "closed_at": result.closed.closed_at,
        "budget_settlements": [e.model_dump(mode="json") for e in result.budgets],
        "internal_settlement": result.internal.model_dump(mode="json") if result.internal else None,
        "performance_pay": [e.model_dump(mode="json") for e in result.performance],
    }


@router.get("/performance-pay/{period}", summary="Performance pay allocated for a period")
def performance_pay(period: PeriodPath, _: CentralReader, uow: FinanceUow) -> list[dict[str, Any]]:
    with uow:
        runs = uow.session.scalars(
            select(SettlementRun)
            .where(SettlementRun.kind == PERFORMANCE, SettlementRun.period == period)
            .order_by(SettlementRun.scope)
        )
        return [
            {
                "allocation_id": r.run_id,
                "community_id": r.scope,
                "total": r.total,
                **r.detail,
                "allocated_at": r.completed_at,
            }
            for r in runs
        ]
