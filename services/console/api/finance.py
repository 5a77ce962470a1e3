"""财务: the insurance bundle's consumption per community (医保打包) and the trial balance of
the county, a community or a member, from the finance service; xlsx and CSV of both. The
county's finance centre and the management centre read everything; a member's staff read
their own books."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter
from fastapi.responses import Response

from libs.platform.auth import Role
from services.console.adapters.exports import Table
from services.console.adapters.services import CallsAs
from services.console.api.deps import (
    ConsoleUowDep,
    FacilityQuery,
    bench,
    calls_as,
    facility_for,
    frame,
)
from services.console.api.exports import exported
from services.console.service_layer.sessions import SignedIn

router = APIRouter(prefix="/finance", tags=["console finance"], include_in_schema=False)

Accountant = Annotated[SignedIn, bench("finance")]


def books_of(person: SignedIn, wanted: str | None) -> str | None:
    """Whose books a page shows: a member's staff their own; the centres any (none chosen:
    the county's consolidated books)."""
    return facility_for(person, wanted, refusal="您只能查看本机构的账簿", own_by_default=False)


def _trial_balance(services: CallsAs, facility: str | None) -> dict[str, Any]:
    found: dict[str, Any] = services.get("finance", "/ledger/trial-balance", facility_id=facility)
    return found


def _budgets(services: CallsAs, person: SignedIn) -> list[dict[str, Any]]:
    if person.role is Role.CLINIC_STAFF:
        return []  # the bundle is the community's: the centres' business
    return list(services.get("finance", "/budgets"))


@router.get("")
def finance_page(
    person: Accountant, uow: ConsoleUowDep, facility_id: FacilityQuery = None
) -> Response:
    facility = books_of(person, facility_id)
    services = calls_as(uow.config, person)
    return uow.config.pages.render(
        "finance.html",
        **frame(uow, person, "finance"),
        facility=facility,
        trial=_trial_balance(services, facility),
        budgets=_budgets(services, person),
        percent=lambda share: f"{Decimal(str(share)) * 100:.1f}%",
    )


@router.get("/trial-balance.{fmt}")
def export_trial_balance(
    person: Accountant, uow: ConsoleUowDep, fmt: str, facility_id: FacilityQuery = None
) -> Response:
    trial = _trial_balance(calls_as(uow.config, person), books_of(person, facility_id))
    rows = [
        (a["account_code"], a["account_name_zh"] or a["account_name"] or "",
         Decimal(str(a["debit"])), Decimal(str(a["credit"])), Decimal(str(a["balance"])))
        for a in trial["accounts"]
    ]  # fmt: skip
    headers = ("科目编码", "科目名称", "借方", "贷方", "余额")
    return exported(Table("试算平衡表", headers, rows), fmt, "trial-balance")
