"""Admin HTTP for the insurance bundle: budgets, their status and forecast, reconciliation."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status

from services.finance.api.access import CentralReader, FinanceCentre, FinanceUow, PeriodPath
from services.finance.domain import bundle
from services.finance.service_layer import budgets, bundle_settlement

router = APIRouter(tags=["insurance bundle"])


def _view(budget: budgets.BudgetFigures, forecast: bundle.Forecast | None = None) -> dict[str, Any]:
    view: dict[str, Any] = {
        "budget_id": budget.budget_id,
        "community_id": budget.community_id,
        "year": budget.year,
        "status": budget.status,
        "total": budget.total,
        "prepaid": budget.prepaid,
        "consumed": budget.consumed,
        "consumed_out_of_county": budget.consumed_out_of_county,
        "remaining": budget.total - budget.consumed,
        "consumed_share": bundle.consumed_share(budget.consumed, budget.total),
        "paid_provisional": budget.paid_provisional,
        "claims": budget.claims,
        "thresholds_crossed": budget.thresholds_crossed,
        "reconciliation": budget.reconciliation,
    }
    if forecast is not None:
        view["forecast"] = {
            "as_of": forecast.as_of,
            "calendar_share": forecast.calendar_share,
            "consumed_share": forecast.consumed_share,
            "projected_consumption": forecast.projected_consumption,
            "projected_surplus": forecast.projected_surplus,
        }
    return view


@router.get("/budgets", summary="Every community's yearly bundle")
def list_budgets(_: CentralReader, uow: FinanceUow) -> list[dict[str, Any]]:
    return [_view(b) for b in budgets.list_budget_figures(uow)]


@router.get("/budgets/{budget_id}", summary="One bundle: consumption and a forecast of the year")
def get_budget(budget_id: str, _: CentralReader, uow: FinanceUow) -> dict[str, Any]:
    figures, forecast = budgets.budget_status(uow, budget_id)
    return _view(figures, forecast)


@router.post(
    "/budgets/{budget_id}/reconciliation",
    status_code=status.HTTP_201_CREATED,
    summary="Year-end reconciliation: surplus kept or overspend shared",
)
def reconcile(budget_id: str, _: FinanceCentre, uow: FinanceUow) -> dict[str, Any]:
    event = bundle_settlement.reconcile_budget(uow, budget_id)
    return event.model_dump(mode="json")


@router.post(
    "/settlements/budget/{period}",
    status_code=status.HTTP_201_CREATED,
    summary="The monthly provisional settlement of every open bundle",
)
def settle(period: PeriodPath, _: FinanceCentre, uow: FinanceUow) -> list[dict[str, Any]]:
    settled = bundle_settlement.settle_budgets(uow, period)
    return [e.model_dump(mode="json") for e in settled]
