"""运维: each service's readiness and version, and the dead letters each consuming service
holds; an administrator reads one, corrects its record if need be and replays it, and the
service that refused it applies it through its own handlers (libs/platform/dead_letters.py).
The services are asked side by side: reading dead-letter topics takes a moment each."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Form, Path, Query
from fastapi.responses import RedirectResponse, Response

from services.console.adapters.exports import Table
from services.console.adapters.services import CallsAs, ServiceDirectory, ServiceRefused
from services.console.api.deps import ConsoleUowDep, CsrfField, bench, calls_as, check_form, frame
from services.console.api.exports import exported
from services.console.domain import operations_board as board
from services.console.service_layer.sessions import SignedIn

router = APIRouter(prefix="/operations", tags=["console operations"], include_in_schema=False)

Operator = Annotated[SignedIn, bench("operations")]
Service = Annotated[str, Path(max_length=40, pattern=r"^[a-z]+$")]
DeadLetterTopic = Annotated[str, Path(max_length=249, pattern=r"^[A-Za-z0-9._-]+\.dlt$")]
Number = Annotated[int, Path(ge=0)]


def _state(directory: ServiceDirectory, name: str, open_: int | None) -> board.ServiceState:
    base = directory.urls[name].rstrip("/")
    try:
        ready = directory.client.get(f"{base}/readyz")
        alive = directory.client.get(f"{base}/healthz").json()
    except (httpx.HTTPError, ValueError):
        return board.ServiceState(name, None, None, {}, open_)
    checks = ready.json().get("checks", {}) if ready.content else {}
    failing = {k: v for k, v in checks.items() if v != "ok"}
    return board.ServiceState(name, ready.status_code == 200, alive.get("version"), failing, open_)


def open_letters(services: CallsAs, name: str) -> int | None:
    """How many of ``name``'s dead letters nobody has dealt with (None: it keeps none,
    consuming nothing, or could not read them now)."""
    try:
        return int(services.get(name, "/dead-letters", unresolved="true", limit=1)["total"])
    except ServiceRefused:
        return None


def feeds(services: CallsAs) -> list[dict[str, Any]]:
    """The member systems' feeds from the gateway (none when it is not part of the suite)."""
    try:
        return list(services.get("gateway", "/feeds"))
    except ServiceRefused:
        return []


#: The most dead letters of one service a page lists (the newest).
LISTED = 500


def _letters(services: CallsAs, name: str) -> tuple[list[board.Letter], int | None]:
    """``name``'s newest dead letters, and how many of all of them are still open (None:
    it keeps none, consuming nothing, or could not read them now). The count comes from
    the list when the list is whole, else from the service."""
    try:
        found = services.get(name, "/dead-letters", limit=LISTED)
    except ServiceRefused:
        return [], None
    letters = [board.Letter(name, summary) for summary in found["items"]]
    if int(found["total"]) <= len(letters):
        return letters, sum(1 for x in letters if not x.resolved)
    return letters, open_letters(services, name)


def _survey(uow: ConsoleUowDep, person: SignedIn) -> tuple[list[Any], list[board.Letter]]:
    """Every service's state and dead letters, each service's topics read once (twice for a
    service with more than a page of them)."""
    directory = uow.config.services
    services = calls_as(uow.config, person)
    names = sorted(directory.urls)
    with ThreadPoolExecutor(max_workers=8) as pool:
        found = list(pool.map(lambda n: _letters(services, n), names))
        opened = [count for _, count in found]
        states = list(pool.map(lambda n, c: _state(directory, n, c), names, opened))
    return states, board.arrange([x for letters, _ in found for x in letters])


@router.get("")
def operations_page(person: Operator, uow: ConsoleUowDep) -> Response:
    states, letters = _survey(uow, person)
    return uow.config.pages.render(
        "operations.html",
        feeds=feeds(calls_as(uow.config, person)),
        **frame(uow, person, "operations"),
        states=states,
        letters=letters,
        board=board,
    )


@router.get("/dead-letters/{service}/{topic}/{partition}/{offset}")
def dead_letter_page(
    person: Operator,
    uow: ConsoleUowDep,
    service: Service,
    topic: DeadLetterTopic,
    partition: Number,
    offset: Number,
    outcome: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    path = f"/dead-letters/{topic}/{partition}/{offset}"
    letter = calls_as(uow.config, person).get(service, path)
    return uow.config.pages.render(
        "dead_letter.html",
        **frame(uow, person, "operations"),
        service=service,
        letter=letter,
        editable=letter["value_is_text"] and letter["value_complete"],
        done=board.OUTCOMES.get(outcome or ""),
        board=board,
    )


@router.post("/dead-letters/{service}/{topic}/{partition}/{offset}")
def replay(
    person: Operator,
    uow: ConsoleUowDep,
    service: Service,
    topic: DeadLetterTopic,
    partition: Number,
    offset: Number,
    csrf_token: CsrfField,
    value: Annotated[str | None, Form(max_length=1_000_000)] = None,
) -> Response:
    """Replay the record, as it is or as corrected in the page's text box."""
    check_form(person, csrf_token)
    services = calls_as(uow.config, person)
    path = f"/dead-letters/{topic}/{partition}/{offset}"
    if value is not None:  # the service replays an untouched text box as it is
        value = value.replace("\r\n", "\n")  # what a browser's text box sends back
    done = services.post(service, f"{path}/replay", {"value": value})
    return RedirectResponse(
        f"/operations/dead-letters/{service}/{topic}/{partition}/{offset}?outcome={done['outcome']}",
        status_code=303,
    )


@router.get("/dead-letters.{fmt}")
def export_dead_letters(person: Operator, uow: ConsoleUowDep, fmt: str) -> Response:
    _, letters = _survey(uow, person)
    pages = uow.config.pages
    rows = [
        (
            board.SERVICES.get(x.service, x.service),
            pages.local(x.summary.get("time")),
            board.REASONS.get(x.summary.get("reason") or "", x.summary.get("reason") or ""),
            x.summary.get("detail") or "",
            x.summary.get("event_type") or "",
            x.summary.get("event_id") or "",
            x.summary["origin"],
            board.OUTCOMES.get((x.summary.get("replay") or {}).get("outcome", ""), "待处理"),
        )
        for x in letters
    ]
    headers = ("服务", "进入死信时间", "原因", "详情", "事件类型", "事件编号", "原位置", "处理状态")
    return exported(Table("死信", headers, rows), fmt, "dead-letters")
