"""What every console page needs: its person (from the session cookie), the form token
check, the console's configuration and the services called as that person."""

from __future__ import annotations

import hmac
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Form, Query, Request
from pydantic import BeforeValidator, StringConstraints

from libs.events.envelope import utc_now
from libs.platform.auth import Role
from libs.platform.http.dependencies import UnitOfWorkDep
from services.console.adapters.services import CallsAs
from services.console.config import ConsoleConfig
from services.console.domain.workbenches import opens, workbenches_for
from services.console.service_layer.accounts import directory_names
from services.console.service_layer.sessions import SignedIn, current
from services.console.service_layer.unit_of_work import ConsoleUnitOfWork, console_uow

__all__ = [
    "COOKIE",
    "ConfigDep",
    "ConsoleUowDep",
    "CsrfField",
    "FacilityQuery",
    "Forbidden",
    "MonthQuery",
    "NotSignedIn",
    "PeriodQuery",
    "PersonDep",
    "Unfit",
    "bench",
    "calls_as",
    "check_form",
    "client_of",
    "facility_for",
    "frame",
    "is_poll",
]

COOKIE = "console_session"


def _blank_is_none(value: Any) -> Any:
    """An empty field of a page's GET form (全县 chosen, no period typed) was not given."""
    return None if value == "" else value


#: Every form's token (:func:`check_form`).
CsrfField = Annotated[str, Form(max_length=100)]
#: A facility (or community) chosen on a page; empty: none chosen.
FacilityQuery = Annotated[
    Annotated[str, StringConstraints(max_length=64, pattern=r"^[A-Za-z0-9._-]+$")] | None,
    BeforeValidator(_blank_is_none),
    Query(),
]
#: A month (YYYY-MM), e.g. an accounting period, chosen on a page; empty: none.
MonthQuery = Annotated[
    Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}$")] | None,
    BeforeValidator(_blank_is_none),
    Query(),
]
#: A month (YYYY-MM) or a day (YYYY-MM-DD) typed on a page; empty: none.
PeriodQuery = Annotated[
    Annotated[str, StringConstraints(max_length=10, pattern=r"^\d{4}-\d{2}(-\d{2})?$")] | None,
    BeforeValidator(_blank_is_none),
    Query(),
]


class NotSignedIn(Exception):
    """No live session: the page sends the browser to sign in (and back here after)."""

    def __init__(self, back_to: str) -> None:
        self.back_to = back_to


class Forbidden(Exception):
    """The person may not use this (中文 message for the page)."""


class Unfit(Exception):
    """What the person filled in cannot be used as it is (中文 message for the page)."""


def _uow(uow: UnitOfWorkDep) -> ConsoleUnitOfWork:
    return console_uow(uow)


ConsoleUowDep = Annotated[ConsoleUnitOfWork, Depends(_uow)]


def _config(uow: ConsoleUowDep) -> ConsoleConfig:
    return uow.config


ConfigDep = Annotated[ConsoleConfig, Depends(_config)]


def _person(request: Request, uow: ConsoleUowDep) -> SignedIn:
    token = request.cookies.get(COOKIE)
    person = None
    if token:
        person = current(uow, token, terms=uow.config.sessions, now=utc_now())
    if person is None:
        raise NotSignedIn(quote(request.url.path))
    request.state.person = person
    return person


PersonDep = Annotated[SignedIn, Depends(_person)]


def bench(key: str) -> object:
    """A dependency admitting only people whose role opens workbench ``key``."""

    def check(person: PersonDep) -> SignedIn:
        if not opens(person.role, key):
            raise Forbidden("您的角色无权使用此工作台")
        return person

    return Depends(check)


def check_form(person: SignedIn, csrf_token: str) -> None:
    """Every form carries the session's own token: a form another site made cannot."""
    if not hmac.compare_digest(person.csrf_token.encode(), csrf_token.encode()):
        raise Forbidden("表单已过期或来源不明，请刷新页面后重试")


def facility_for(
    person: SignedIn, wanted: str | None, *, refusal: str, own_by_default: bool = True
) -> str | None:
    """The facility a page shows: clinic staff only ever their own (by the menu and by the
    URL: another is refused with ``refusal``); others the one they chose, or when they chose
    none their own (``own_by_default``) or the whole county."""
    if person.role is Role.CLINIC_STAFF:
        if wanted not in (None, person.facility_id):
            raise Forbidden(refusal)
        return person.facility_id
    return wanted or (person.facility_id if own_by_default else None)


def calls_as(config: ConsoleConfig, person: SignedIn) -> CallsAs:
    return config.services.calls_as(person.username, person.role, person.facility_id)


def client_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def frame(uow: ConsoleUnitOfWork, person: SignedIn, current: str) -> dict[str, Any]:
    """What every workbench page's frame shows: who is signed in, the menu they may open
    (``current`` lit), facilities and communities by name, whether they may choose another
    facility, and how often a live board asks again."""
    names, communities = directory_names(uow)
    return {
        "person": person,
        "benches": workbenches_for(person.role),
        "current": current,
        "names": names,
        "communities": communities,
        "choosable": person.role is not Role.CLINIC_STAFF,
        "refresh_ms": int(uow.config.refresh_seconds * 1000),
    }


def is_poll(request: Request) -> bool:
    """A live board asking for its rows again (every few seconds): answer only the rows."""
    return bool(request.headers.get("x-console-live"))
