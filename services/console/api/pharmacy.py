"""药事: a facility's stock and the transfer queue (approve, ship, receive), with exports.
Everything is read from and done by the pharmacy service as the signed-in person."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import RedirectResponse, Response

from libs.platform.auth import Role
from services.console.adapters.exports import Table
from services.console.adapters.services import CallsAs
from services.console.api.deps import (
    ConsoleUowDep,
    CsrfField,
    FacilityQuery,
    Forbidden,
    Unfit,
    bench,
    calls_as,
    check_form,
    facility_for,
    frame,
    is_poll,
)
from services.console.api.exports import exported
from services.console.domain import pharmacy_board as board
from services.console.service_layer.accounts import facility_names
from services.console.service_layer.sessions import SignedIn

router = APIRouter(prefix="/pharmacy", tags=["console pharmacy"], include_in_schema=False)

Pharmacist = Annotated[SignedIn, bench("pharmacy")]
TransferId = Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]
#: The most rows a list (and its export) gathers from the pharmacy service.
MOST_LISTED = 20_000


def _facility(person: SignedIn, wanted: str | None) -> str | None:
    return facility_for(person, wanted, refusal="您只能查看本机构的药事信息")


def _transfers(services: CallsAs, facility: str | None) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for state in board.OPEN_TRANSFERS:
        page = services.get("pharmacy", "/transfers", facility_id=facility, state=state, limit=200)
        found.extend(page["items"])
    return sorted(found, key=lambda t: (board.OPEN_TRANSFERS.index(t["state"]), t["requested_at"]))


def _stock(services: CallsAs, facility: str | None) -> list[dict[str, Any]]:
    if facility is None:
        return []
    return list(services.get("pharmacy", f"/stock/{facility}", limit=200)["items"])


def _expiring(services: CallsAs, facility: str | None) -> list[dict[str, Any]]:
    """Lots expiring within the county's horizon, and expired ones still on hand."""
    return list(services.get("pharmacy", "/expiry/lots", facility_id=facility, limit=200)["items"])


def _shortages(services: CallsAs, facility: str | None) -> list[dict[str, Any]]:
    """Open shortages (缺药登记: what a prescription or a referral could not be given),
    newest first."""
    return services.every("pharmacy", "/shortages", most=MOST_LISTED, facility_id=facility)


def drug_names(services: CallsAs) -> dict[str, str]:
    """The formulary's names by code (a lot or a line names only its code)."""
    drugs = services.every("pharmacy", "/formulary/drugs", most=MOST_LISTED)
    return {d["drug_code"]: d["name"] for d in drugs}


@router.get("")
def pharmacy_page(
    request: Request, person: Pharmacist, uow: ConsoleUowDep, facility_id: FacilityQuery = None
) -> Response:
    facility = _facility(person, facility_id)
    services = calls_as(uow.config, person)
    page = frame(uow, person, "pharmacy") | {
        "facility": facility,
        "transfers": _transfers(services, facility),
        "board": board,
    }
    if is_poll(request):  # the queue alone: stock and lots stay as the page drew them
        return uow.config.pages.render("transfer_rows.html", **page)
    return uow.config.pages.render(
        "pharmacy.html",
        **page,
        stock=_stock(services, facility),
        expiring=_expiring(services, facility),
        shortages=_shortages(services, facility),
        drugs=drug_names(services),
    )


@router.post("/transfers")
def request_transfer(
    person: Pharmacist,
    uow: ConsoleUowDep,
    csrf_token: CsrfField,
    drug_code: Annotated[list[str], Form(max_length=10)],
    quantity: Annotated[list[str], Form(max_length=10)],
) -> Response:
    """A member asks its community's central pharmacy for drugs (rows left empty are
    skipped); the pharmacy service checks the rest."""
    check_form(person, csrf_token)
    if person.role is not Role.CLINIC_STAFF or person.facility_id is None:
        raise Forbidden("调拨申请由成员单位提出")
    try:
        lines = board.request_lines(drug_code, quantity)
    except board.RequestRefused as exc:
        raise Unfit(str(exc)) from None
    body = {"to_facility_id": person.facility_id, "lines": lines}
    calls_as(uow.config, person).post("pharmacy", "/transfers", body)
    return RedirectResponse("/pharmacy", status_code=303)


@router.post("/transfers/{transfer_id}/{step}")
def take_step(
    transfer_id: TransferId,
    step: str,
    person: Pharmacist,
    uow: ConsoleUowDep,
    csrf_token: CsrfField,
    reason: Annotated[str | None, Form(max_length=64)] = None,
    facility_id: Annotated[str | None, Form(max_length=64)] = None,
) -> Response:
    check_form(person, csrf_token)
    if step not in board.STEP_NAMES:
        raise Forbidden("未知操作")
    body: dict[str, Any] | None = {} if step in ("approve", "ship") else None
    if step == "reject":
        body = {"reason": reason if reason in board.REJECTIONS else "not_needed"}
    services = calls_as(uow.config, person)
    services.post("pharmacy", f"/transfers/{transfer_id}/{step}", body)
    back = f"/pharmacy?facility_id={facility_id}" if facility_id else "/pharmacy"
    return RedirectResponse(back, status_code=303)


@router.get("/stock.{fmt}")
def export_stock(
    person: Pharmacist, uow: ConsoleUowDep, fmt: str, facility_id: FacilityQuery = None
) -> Response:
    facility = _facility(person, facility_id)
    if facility is None:
        raise Forbidden("请先选择机构")
    rows = [
        (s["drug_code"], s["name"], s["unit"], s["on_hand"], s["available"], s["reserved"],
         s["expired"], "是" if s["stocked_out"] else "否")
        for s in _stock(calls_as(uow.config, person), facility)
    ]  # fmt: skip
    headers = ("药品编码", "药品名称", "单位", "库存", "可用", "预留", "过期", "缺货")
    return exported(Table("库存", headers, rows), fmt, "stock")


@router.get("/transfers.{fmt}")
def export_transfers(
    person: Pharmacist, uow: ConsoleUowDep, fmt: str, facility_id: FacilityQuery = None
) -> Response:
    facility = _facility(person, facility_id)
    names, pages = facility_names(uow), uow.config.pages
    rows = [
        (t["transfer_id"], board.TRANSFER_STATES.get(t["state"], t["state"]),
         names.get(t["from_facility_id"], t["from_facility_id"]),
         names.get(t["to_facility_id"], t["to_facility_id"]),
         "；".join(f"{line['drug_code']}×{line['quantity_requested']}" for line in t["lines"]),
         pages.local(t["requested_at"]))
        for t in _transfers(calls_as(uow.config, person), facility)
    ]  # fmt: skip
    headers = ("调拨单号", "状态", "调出机构", "调入机构", "药品与数量", "申请时间")
    return exported(Table("调拨", headers, rows), fmt, "transfers")


@router.get("/expiring.{fmt}")
def export_expiring(
    person: Pharmacist, uow: ConsoleUowDep, fmt: str, facility_id: FacilityQuery = None
) -> Response:
    services = calls_as(uow.config, person)
    names, drugs = facility_names(uow), drug_names(services)
    rows = [
        (names.get(x["facility_id"], x["facility_id"]), x["drug_code"],
         drugs.get(x["drug_code"], ""), x["lot_number"], x["expiry_date"], x["days_left"],
         x["on_hand"], Decimal(x["value"]))
        for x in _expiring(services, _facility(person, facility_id))
    ]  # fmt: skip
    headers = ("机构", "药品编码", "药品名称", "批号", "有效期至", "剩余天数", "库存", "金额（元）")
    return exported(Table("近效期", headers, rows), fmt, "expiring")


@router.get("/shortages.{fmt}")
def export_shortages(
    person: Pharmacist, uow: ConsoleUowDep, fmt: str, facility_id: FacilityQuery = None
) -> Response:
    services = calls_as(uow.config, person)
    names, drugs, pages = facility_names(uow), drug_names(services), uow.config.pages
    rows = [
        (names.get(x["facility_id"], x["facility_id"]), x["drug_code"],
         drugs.get(x["drug_code"], ""), x["quantity_short"], x["prescription_id"] or "",
         x["referral_id"] or "", pages.local(x["recorded_at"]))
        for x in _shortages(services, _facility(person, facility_id))
    ]  # fmt: skip
    headers = ("机构", "药品编码", "药品名称", "短缺数量", "处方号", "转诊单号", "登记时间")
    return exported(Table("缺药登记", headers, rows), fmt, "shortages")
