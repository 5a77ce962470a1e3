"""Signing in and out. The sign-in form is protected by a double-submit token (a cookie and
the form's field must agree) since there is no session yet to hold one."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from libs.events.envelope import utc_now
from services.console.api.deps import (
    COOKIE,
    ConsoleUowDep,
    CsrfField,
    PersonDep,
    check_form,
    client_of,
)
from services.console.service_layer.sessions import SignInRefused, sign_in, sign_out

router = APIRouter(tags=["console sign-in"], include_in_schema=False)

FORM_COOKIE = "console_sign_in"


def _safe_next(target: str | None) -> str:
    """Only a path of this console: never another site (an open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


@router.get("/sign-in")
def sign_in_page(uow: ConsoleUowDep, next: str | None = None) -> Response:
    token = secrets.token_urlsafe(32)
    page = uow.config.pages.render(
        "sign_in.html", form_token=token, next=_safe_next(next), message=None
    )
    _set(page, FORM_COOKIE, token, uow.config.secure_cookies, path="/sign-in")
    return page


@router.post("/sign-in")
def sign_in_submit(
    request: Request,
    uow: ConsoleUowDep,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
    form_token: Annotated[str, Form(max_length=100)],
    next: Annotated[str, Form(max_length=500)] = "/",
) -> Response:
    config = uow.config
    expected = request.cookies.get(FORM_COOKIE, "")
    message = None
    if not expected or not hmac.compare_digest(expected.encode(), form_token.encode()):
        message = "登录页面已过期，请重新登录"
    else:
        try:
            token = sign_in(
                uow,
                username,
                password,
                client=client_of(request),
                limits=config.limits,
                now=utc_now(),
            )
        except SignInRefused as refused:
            message = str(refused)
    if message is not None:
        fresh = secrets.token_urlsafe(32)
        page = config.pages.render(
            "sign_in.html",
            401,
            form_token=fresh,
            next=_safe_next(next),
            message=message,
            username=username,
        )
        _set(page, FORM_COOKIE, fresh, config.secure_cookies, path="/sign-in")
        return page
    answer = RedirectResponse(_safe_next(next), status_code=303)
    _set(answer, COOKIE, token, config.secure_cookies, path="/")
    answer.delete_cookie(FORM_COOKIE, path="/sign-in")
    return answer


@router.post("/sign-out")
def sign_out_submit(
    request: Request,
    person: PersonDep,
    uow: ConsoleUowDep,
    csrf_token: CsrfField,
) -> Response:
    check_form(person, csrf_token)
    sign_out(uow, request.cookies.get(COOKIE, ""), now=utc_now())
    answer = RedirectResponse("/sign-in", status_code=303)
    answer.delete_cookie(COOKIE, path="/")
    return answer


def _set(response: Response, name: str, value: str, secure: bool, *, path: str) -> None:
    response.set_cookie(name, value, httponly=True, samesite="lax", secure=secure, path=path)
