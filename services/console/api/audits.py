"""审方 · 处方点评: the month's audit of every member (the quality service draws the sample,
checks each verdict against the county's standard and publishes a member's results); the
review centre's pharmacists give each sampled prescription its verdict, the centre or the
management centre draws a month and publishes a member once every verdict is given."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query
from fastapi.responses import RedirectResponse, Response

from libs.platform.auth import Role
from services.console.adapters.exports import Table
from services.console.adapters.services import CallsAs
from services.console.api.deps import (
    ConsoleUowDep,
    CsrfField,
    Forbidden,
    bench,
    calls_as,
    check_form,
    frame,
)
from services.console.api.exports import exported
from services.console.domain import audit_board as board
from services.console.domain.review_board import RULES
from services.console.domain.review_board import STATES as REVIEW_STATES
from services.console.service_layer.accounts import facility_names
from services.console.service_layer.sessions import SignedIn

router = APIRouter(prefix="/review/audits", tags=["console audit"], include_in_schema=False)

Reviewer = Annotated[SignedIn, bench("review")]
Month = Annotated[str, Path(pattern=r"^\d{4}-\d{2}$")]
Code = Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]


def _organises(person: SignedIn) -> bool:
    """Drawing a month and publishing a member: the review centre and the management centre."""
    return person.role in (Role.PHARMACY_CENTRE, Role.COUNTY_ADMIN)


def _standard(services: CallsAs) -> tuple[dict[str, str], dict[str, str], dict[str, Any]]:
    standard = services.get("quality", "/audits/standard")
    names, reasons = board.verdicts(standard)
    return names, reasons, standard


@router.get("")
def chosen_month(
    person: Reviewer,
    uow: ConsoleUowDep,
    month: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$")] = None,
) -> Response:
    """The month chosen in the page's menu; none chosen: last month."""
    month = month or board.ended_months(uow.config.clock.today(), 1)[0]
    return RedirectResponse(f"/review/audits/{month}", status_code=303)


@router.get("/{month}")
def month_page(person: Reviewer, uow: ConsoleUowDep, month: Month) -> Response:
    config = uow.config
    audit = calls_as(config, person).get("quality", f"/audits/{month}")
    return config.pages.render(
        "audit_month.html",
        **frame(uow, person, "review"),
        month=month,
        months=board.ended_months(config.clock.today()),
        audit=audit,
        drawable=config.clock.today().isoformat() >= audit["drawable_from"],
        organises=_organises(person),
        board=board,
    )


@router.post("/{month}/draw")
def draw(person: Reviewer, uow: ConsoleUowDep, month: Month, csrf_token: CsrfField) -> Response:
    check_form(person, csrf_token)
    if not _organises(person):
        raise Forbidden("抽样由审方中心或管理中心进行")
    calls_as(uow.config, person).post("quality", f"/audits/{month}", None)
    return RedirectResponse(f"/review/audits/{month}", status_code=303)


@router.get("/{month}/summary.{fmt}")
def export_month(person: Reviewer, uow: ConsoleUowDep, month: Month, fmt: str) -> Response:
    audit = calls_as(uow.config, person).get("quality", f"/audits/{month}")
    names, pages = facility_names(uow), uow.config.pages
    rows = [
        (names.get(s["facility_id"], s["facility_id"]), s["prescriptions"], s["sampled"],
         s["reviewed"], s["irrational"], board.irrational_rate(s), pages.local(s["drawn_at"]),
         pages.local(s["published_at"]) if s["published_at"] else "未发布")
        for s in audit["facilities"]
    ]  # fmt: skip
    headers = ("机构", "处方数", "抽样数", "已点评", "不合理处方", "不合理率", "抽样时间", "发布")
    return exported(Table(f"{board.month_name(month)}处方点评", headers, rows), fmt, "audit")


@router.get("/{month}/{facility_id}")
def member_page(person: Reviewer, uow: ConsoleUowDep, month: Month, facility_id: Code) -> Response:
    services = calls_as(uow.config, person)
    names, reasons, standard = _standard(services)
    queue = services.get("quality", f"/audits/{month}/facilities/{facility_id}")
    summary = queue["summary"]
    return uow.config.pages.render(
        "audit_member.html",
        **frame(uow, person, "review"),
        month=month,
        facility=facility_id,
        queue=queue,
        standard=standard,
        verdict_names=names,
        reason_names=reasons,
        rules=RULES,
        review_states=REVIEW_STATES,
        decides=person.role is Role.PHARMACY_CENTRE and summary["published_at"] is None,
        publishable=_organises(person)
        and summary["published_at"] is None
        and summary["reviewed"] == summary["sampled"],
        board=board,
    )


@router.post("/{month}/{facility_id}/publish")
def publish(
    person: Reviewer, uow: ConsoleUowDep, month: Month, facility_id: Code, csrf_token: CsrfField
) -> Response:
    check_form(person, csrf_token)
    if not _organises(person):
        raise Forbidden("点评结果由审方中心或管理中心发布")
    path = f"/audits/{month}/facilities/{facility_id}/publish"
    calls_as(uow.config, person).post("quality", path, None)
    return RedirectResponse(f"/review/audits/{month}/{facility_id}", status_code=303)


@router.post("/{month}/{facility_id}/prescriptions/{prescription_id}")
def give_verdict(
    person: Reviewer,
    uow: ConsoleUowDep,
    month: Month,
    facility_id: Code,
    prescription_id: Code,
    csrf_token: CsrfField,
    verdict: Annotated[str, Form(min_length=1, max_length=32)],
    reasons: Annotated[list[str], Form(max_length=30)] = [],  # noqa: B006 (FastAPI copies it)
    note: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """The quality service checks the verdict against the standard (a category needs one of
    its own sub-reasons, 合理处方 none) and says in its refusal what would do: the reasons
    are sent as ticked, so a category left at 合理处方 by mistake is refused, not recorded."""
    check_form(person, csrf_token)
    body = {"verdict": verdict, "reasons": reasons, "note": note.strip() or None}
    path = f"/audits/{month}/facilities/{facility_id}/prescriptions/{prescription_id}"
    calls_as(uow.config, person).put("quality", path, body)
    back = f"/review/audits/{month}/{facility_id}#audit-{prescription_id}"
    return RedirectResponse(back, status_code=303)
