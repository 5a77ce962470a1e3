"""首页: the key indicators this month and what needs attention now, from each service the
person may ask. A service that refuses the person (their role) or is down leaves its line
out instead of failing the page. The management centre also sees silent member feeds and
dead letters nobody dealt with."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from libs.platform.auth import Role
from services.console.adapters.services import CallsAs, ServiceDirectory, ServiceRefused
from services.console.api.deps import ConsoleUowDep, PersonDep, calls_as, frame
from services.console.api.operations import feeds, open_letters
from services.console.domain.accounts import ROLE_NAMES
from services.console.domain.glance import KEY_INDICATORS, Glance
from services.console.domain.report_chart import UNITS, shown
from services.console.service_layer.sessions import SignedIn

router = APIRouter(tags=["console home"], include_in_schema=False)


@dataclass(frozen=True)
class Attention:
    label: str
    count: int | None
    link: str
    urgent: bool


#: (label, service, path, query, link): each a count the services already answer.
CHECKS: tuple[tuple[str, str, str, dict[str, Any], str], ...] = (
    ("待接收转诊", "referral", "/referrals", {"state": "requested"}, "/referrals"),
    ("超时转诊", "referral", "/referrals", {"breached": "true"}, "/referrals"),
    ("待审处方", "quality", "/reviews", {"state": "held"}, "/review"),
    ("缺药登记", "pharmacy", "/shortages", {}, "/pharmacy"),
    ("待审批调拨", "pharmacy", "/transfers", {"state": "requested"}, "/pharmacy"),
    ("近效期批次", "pharmacy", "/expiry/lots", {}, "/pharmacy"),
)


def _count(services: CallsAs, service: str, path: str, query: dict[str, Any]) -> int | None:
    try:
        page = services.get(service, path, limit=1, **query)
    except ServiceRefused:
        return None
    return int(page["total"]) if isinstance(page, dict) and "total" in page else None


def _operations(directory: ServiceDirectory, services: CallsAs) -> list[Attention]:
    """For the management centre: silent member feeds, and dead letters nobody dealt with
    (each service asked side by side: each reads its dead-letter topics)."""
    with ThreadPoolExecutor(max_workers=8) as pool:
        counts = list(pool.map(lambda name: open_letters(services, name), directory.urls))
    letters = sum(count for count in counts if count)
    lines = [Attention("未处理死信", letters, "/operations", urgent=letters > 0)]
    if found := feeds(services):  # the gateway answers: the suite takes member feeds
        silent = sum(1 for feed in found if feed["silent"])
        lines.append(Attention("静默接口", silent, "/operations", urgent=silent > 0))
    return lines


def _value(services: CallsAs, code: str, facility: str | None) -> str | None:
    """This month's value of ``code``: the facility's, or (none) the county's."""
    scope = {"level": "facility", "unit_id": facility} if facility else {"level": "county"}
    try:
        found = services.get("reporting", f"/indicators/{code}", limit=1, **scope)
    except ServiceRefused:
        return None
    items = found["items"] if isinstance(found, dict) else []
    if not items or items[0]["value"] is None:
        return None
    return shown(Decimal(str(items[0]["value"])))


def _glance(services: CallsAs, person: SignedIn) -> list[Glance]:
    """The key indicators this month, the county's or (a member's staff) their own; those
    the level has not, or the reporting service does not answer, are left out."""
    level = "facility" if person.facility_id else "county"
    try:
        catalogue = services.get("reporting", "/indicators", limit=500)["items"]
    except ServiceRefused:
        return []
    known = {i["code"]: i for i in catalogue if level in i["levels"]}
    wanted = [code for code in KEY_INDICATORS if code in known]
    with ThreadPoolExecutor(max_workers=5) as pool:
        values = list(pool.map(lambda c: _value(services, c, person.facility_id), wanted))
    return [
        Glance(c, known[c]["name_zh"], v, UNITS.get(known[c]["unit"], known[c]["unit"]))
        for c, v in zip(wanted, values, strict=True)
    ]


@router.get("/")
def home(person: PersonDep, uow: ConsoleUowDep) -> Response:
    config = uow.config
    services = calls_as(config, person)
    scope = {"facility_id": person.facility_id} if person.facility_id else {}
    lines = []
    for label, service, path, query, link in CHECKS:
        count = _count(services, service, path, {**query, **scope})
        if count is not None:
            lines.append(Attention(label, count, link, urgent=count > 0 and "超时" in label))
    if person.role is Role.COUNTY_ADMIN:
        lines += _operations(config.services, services)
    page = frame(uow, person, "home")
    return config.pages.render(
        "home.html",
        **page,
        role_name=ROLE_NAMES[person.role],
        facility=page["names"].get(person.facility_id or "", person.facility_id),
        attention=lines,
        glance=_glance(services, person),
    )
