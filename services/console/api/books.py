"""财务 · 账簿与结账: the journal of the county, a community's pools or a member's books (each
entry with its lines, newest first), the accounting periods and their close, the settlement
runs, and a closed month's performance pay per staff member. The finance service posts,
settles and closes (closing a month settles it and allocates its performance pay in one
transaction); the finance centre asks it to here, the management centre and members read."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query
from fastapi.responses import RedirectResponse, Response

from libs.platform.auth import Role
from services.console.adapters.exports import Table
from services.console.adapters.services import CallsAs
from services.console.api.deps import (
    ConsoleUowDep,
    CsrfField,
    FacilityQuery,
    Forbidden,
    MonthQuery,
    bench,
    calls_as,
    check_form,
    frame,
)
from services.console.api.exports import exported
from services.console.api.finance import books_of
from services.console.domain import finance_board as board
from services.console.service_layer.accounts import directory_names
from services.console.service_layer.sessions import SignedIn

router = APIRouter(prefix="/finance", tags=["console books"], include_in_schema=False)

Accountant = Annotated[SignedIn, bench("finance")]
Period = Annotated[str, Path(pattern=r"^\d{4}-\d{2}$")]
#: Entries per page on the screen; the most an export gathers.
PER_PAGE, MOST_EXPORTED = 30, 20_000


def _central(person: SignedIn) -> bool:
    """Periods, settlements and performance pay are the centres' business."""
    return person.role in (Role.FINANCE_CENTRE, Role.COUNTY_ADMIN)


def _journal(
    services: CallsAs, facility: str | None, period: str | None, *, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    found = services.get(
        "finance", "/ledger/journal", facility_id=facility, period=period, limit=limit,
        offset=offset,
    )  # fmt: skip
    return list(found["items"]), int(found["total"])


@router.get("/journal")
def journal_page(
    person: Accountant,
    uow: ConsoleUowDep,
    facility_id: FacilityQuery = None,
    period: MonthQuery = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    facility = books_of(person, facility_id)
    services = calls_as(uow.config, person)
    entries, total = _journal(
        services, facility, period, limit=PER_PAGE, offset=(page - 1) * PER_PAGE
    )
    accounts = {
        a["code"]: a["name_zh"] or a["name"] for a in services.get("finance", "/ledger/accounts")
    }
    return uow.config.pages.render(
        "journal.html",
        **frame(uow, person, "finance"),
        facility=facility,
        period=period or "",
        entries=entries,
        total=total,
        page=page,
        pages=max(1, -(-total // PER_PAGE)),
        accounts=accounts,
        board=board,
    )


@router.get("/journal.{fmt}")
def export_journal(
    person: Accountant,
    uow: ConsoleUowDep,
    fmt: str,
    facility_id: FacilityQuery = None,
    period: MonthQuery = None,
) -> Response:
    facility = books_of(person, facility_id)
    services = calls_as(uow.config, person)
    entries = services.every(
        "finance", "/ledger/journal", most=MOST_EXPORTED, facility_id=facility, period=period
    )
    (names, communities), pages = directory_names(uow), uow.config.pages
    rows = [
        (e["entry_id"], e["period"], pages.local(e["posted_at"]),
         board.ENTRY_TYPES.get(e["entry_type"], e["entry_type"]), e["memo"] or "",
         line["account_code"], names.get(line["facility_id"] or "", line["facility_id"] or ""),
         communities.get(line["community_id"] or "", line["community_id"] or ""),
         Decimal(str(line["debit"])), Decimal(str(line["credit"])))
        for e in entries
        for line in e["lines"]
    ]  # fmt: skip
    headers = ("凭证号", "会计期间", "记账时间", "类型", "摘要", "科目编码", "机构", "医共体",
               "借方（元）", "贷方（元）")  # fmt: skip
    return exported(Table("记账凭证", headers, rows), fmt, "journal")


def _closed(services: CallsAs) -> tuple[list[dict[str, Any]], set[str]]:
    periods = list(services.get("finance", "/periods"))
    return periods, {p["period"] for p in periods if p["status"] == "closed"}


@router.get("/periods")
def periods_page(person: Accountant, uow: ConsoleUowDep, period: MonthQuery = None) -> Response:
    if not _central(person):
        raise Forbidden("您无权查看结账与绩效分配：由财务中心办理，成员单位请查看本机构账簿")
    services = calls_as(uow.config, person)
    periods, closed = _closed(services)
    chosen = period or max(closed, default=None)  # the latest closed month
    runs, pay = [], []
    if chosen is not None:
        runs = services.get("finance", "/settlements", period=chosen, limit=200)["items"]
        pay = services.get("finance", f"/performance-pay/{chosen}")
    return uow.config.pages.render(
        "periods.html",
        **frame(uow, person, "finance"),
        periods=periods,
        closable=board.closable(uow.config.clock.today(), closed),
        closes=person.role is Role.FINANCE_CENTRE,
        chosen=chosen,
        runs=runs,
        pay=pay,
        board=board,
    )


@router.post("/periods/close")
def close_period(
    person: Accountant,
    uow: ConsoleUowDep,
    period: Annotated[str, Form(pattern=r"^\d{4}-\d{2}$")],
    csrf_token: CsrfField,
    confirmed: Annotated[str | None, Form(max_length=10)] = None,
) -> Response:
    """The finance service settles the month, allocates its performance pay and closes it
    in one transaction (later postings go to the next open month); it refuses a month that
    has not ended or is closed already."""
    check_form(person, csrf_token)
    if person.role is not Role.FINANCE_CENTRE:
        raise Forbidden("结账由财务中心办理")
    if confirmed != "yes":
        raise Forbidden("请先勾选确认：结账后本期间不再记账")
    calls_as(uow.config, person).post("finance", f"/periods/{period}/close", {})
    return RedirectResponse(f"/finance/periods?period={period}", status_code=303)


@router.get("/performance-pay/{period}.{fmt}")
def export_performance_pay(
    person: Accountant, uow: ConsoleUowDep, period: Period, fmt: str
) -> Response:
    if not _central(person):
        raise Forbidden("您无权查看绩效分配：由财务中心办理")
    pay = calls_as(uow.config, person).get("finance", f"/performance-pay/{period}")
    names, communities = directory_names(uow)
    rows = [
        (communities.get(c["community_id"], c["community_id"]), a["staff_id"],
         names.get(a["facility_id"], a["facility_id"]), Decimal(str(a["points"])),
         Decimal(str(a["amount"])))
        for c in pay
        for a in c["allocations"]
    ]  # fmt: skip
    headers = ("医共体", "工号", "机构", "绩效点数", "金额（元）")
    return exported(
        Table(f"{board.month_name(period)}绩效分配", headers, rows), fmt, "performance-pay"
    )
