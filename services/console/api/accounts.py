"""账户: county administrators manage who signs in (name, role, facility, password, state)
and read the sign-in log and every change made."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path
from fastapi.responses import RedirectResponse, Response

from libs.events.envelope import utc_now
from libs.platform.auth import Role
from services.console.api.deps import ConsoleUowDep, bench, check_form, frame
from services.console.domain.accounts import ROLE_NAMES, AccountRefused, AccountTerms
from services.console.service_layer.accounts import (
    create_account,
    set_password,
    update_account,
)
from services.console.service_layer.sessions import SignedIn

router = APIRouter(prefix="/accounts", tags=["console accounts"], include_in_schema=False)

Admin = Annotated[SignedIn, bench("accounts")]
Username = Annotated[str, Path(max_length=32, pattern=r"^[a-z][a-z0-9._-]{2,31}$")]
Text = Annotated[str, Form(max_length=128)]


def _page(uow: ConsoleUowDep, person: SignedIn, message: str | None, status: int) -> Response:
    with uow:
        accounts, changes = uow.accounts.all(), uow.accounts.changes()
        attempts = uow.sign_ins.recent()
        rows = [
            (a.username, a.display_name, Role(a.role), a.facility_id, a.active) for a in accounts
        ]
        log = [(c.at, c.changed_by, c.username, c.change) for c in changes]
        tried = [(t.at, t.username, t.client, t.outcome) for t in attempts]
    return uow.config.pages.render(
        "accounts.html",
        status,
        **frame(uow, person, "accounts"),
        accounts=rows,
        changes=log,
        attempts=tried,
        roles=ROLE_NAMES,
        message=message,
    )


@router.get("")
def accounts_page(person: Admin, uow: ConsoleUowDep) -> Response:
    return _page(uow, person, None, 200)


@router.post("")
def create(
    person: Admin,
    uow: ConsoleUowDep,
    csrf_token: Text,
    username: Text,
    display_name: Text,
    role: Annotated[Role, Form()],
    password: Text,
    facility_id: Text = "",
) -> Response:
    check_form(person, csrf_token)
    terms = AccountTerms(username.strip().lower(), display_name, role, facility_id or None)
    try:
        create_account(uow, terms, password, by=person.username, now=utc_now())
    except AccountRefused as refused:
        return _page(uow, person, str(refused), 422)
    return RedirectResponse("/accounts", status_code=303)


@router.post("/{username}")
def update(
    username: Username,
    person: Admin,
    uow: ConsoleUowDep,
    csrf_token: Text,
    display_name: Text,
    role: Annotated[Role, Form()],
    facility_id: Text = "",
    active: Annotated[bool, Form()] = False,
) -> Response:
    check_form(person, csrf_token)
    terms = AccountTerms(username, display_name, role, facility_id or None)
    try:
        update_account(uow, terms, active=active, by=person.username, now=utc_now())
    except AccountRefused as refused:
        return _page(uow, person, str(refused), 422)
    return RedirectResponse("/accounts", status_code=303)


@router.post("/{username}/password")
def password(
    username: Username, person: Admin, uow: ConsoleUowDep, csrf_token: Text, password: Text
) -> Response:
    check_form(person, csrf_token)
    try:
        set_password(uow, username, password, by=person.username, now=utc_now())
    except AccountRefused as refused:
        return _page(uow, person, str(refused), 422)
    return RedirectResponse("/accounts", status_code=303)
