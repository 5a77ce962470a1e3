"""审方: the review centre's queue of held prescriptions, oldest first, with each finding and
the time left; a pharmacist releases or returns each in one click (the quality service
decides and announces it). Exports as every table."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import RedirectResponse, Response

from libs.events.envelope import utc_now
from services.console.adapters.exports import Table
from services.console.api.deps import (
    ConsoleUowDep,
    CsrfField,
    Forbidden,
    bench,
    calls_as,
    check_form,
    frame,
    is_poll,
)
from services.console.api.exports import exported
from services.console.domain import review_board as board
from services.console.service_layer.accounts import facility_names
from services.console.service_layer.sessions import SignedIn

router = APIRouter(prefix="/review", tags=["console review"], include_in_schema=False)

Reviewer = Annotated[SignedIn, bench("review")]
Code = Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]


def _held(uow: ConsoleUowDep, person: SignedIn) -> list[dict[str, Any]]:
    page = calls_as(uow.config, person).get("quality", "/reviews", state="held", limit=200)
    return list(page["items"])


@router.get("")
def review_page(request: Request, person: Reviewer, uow: ConsoleUowDep) -> Response:
    page = frame(uow, person, "review") | {
        "held": _held(uow, person),
        "board": board,
        "now": utc_now(),
        "decides": person.role.value == "pharmacy_centre",
    }
    template = "review_rows.html" if is_poll(request) else "review.html"
    return uow.config.pages.render(template, **page)


@router.post("/{facility_id}/{prescription_id}/{decision}")
def decide(
    facility_id: Code,
    prescription_id: Code,
    decision: str,
    person: Reviewer,
    uow: ConsoleUowDep,
    csrf_token: CsrfField,
    note: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    check_form(person, csrf_token)
    if decision == "release":
        body: dict[str, Any] = {"note": note.strip() or None}
    elif decision == "reject":
        if not note.strip():
            raise Forbidden("退回处方须写明原因，以便医生修改")
        body = {"reason": note.strip()}
    else:
        raise Forbidden("未知操作")
    path = f"/reviews/{facility_id}/{prescription_id}/{decision}"
    calls_as(uow.config, person).post("quality", path, body)
    return RedirectResponse("/review", status_code=303)


@router.get("/held.{fmt}")
def export_held(person: Reviewer, uow: ConsoleUowDep, fmt: str) -> Response:
    names, pages = facility_names(uow), uow.config.pages
    rows = [
        (r["prescription_id"], names.get(r["facility_id"], r["facility_id"]),
         r["prescriber_id"] or "", "是" if r["antibiotic"] else "否",
         "；".join(board.RULES.get(f["rule"], f["rule"]) for f in r["findings"]),
         pages.local(r["held_at"]), pages.local(r["decide_by"]), "是" if r["overdue"] else "否")
        for r in _held(uow, person)
    ]  # fmt: skip
    headers = (
        "处方号",
        "机构",
        "开方医生",
        "抗菌药物",
        "审核发现",
        "挂起时间",
        "审核时限",
        "已超时",
    )
    return exported(Table("待审处方", headers, rows), fmt, "held-prescriptions")
