"""首页: what needs attention now, from each service the person may ask. A service that
refuses the person (their role) or is down leaves its line out instead of failing the page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from services.console.adapters.services import CallsAs, ServiceRefused
from services.console.api.deps import ConsoleUowDep, PersonDep, calls_as
from services.console.domain.accounts import ROLE_NAMES
from services.console.domain.workbenches import workbenches_for
from services.console.service_layer.accounts import facility_names

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
)


def _count(services: CallsAs, service: str, path: str, query: dict[str, Any]) -> int | None:
    try:
        page = services.get(service, path, limit=1, **query)
    except ServiceRefused:
        return None
    return int(page["total"]) if isinstance(page, dict) and "total" in page else None


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
    names = facility_names(uow)
    return config.pages.render(
        "home.html",
        person=person,
        role_name=ROLE_NAMES[person.role],
        facility=names.get(person.facility_id or "", person.facility_id),
        benches=workbenches_for(person.role),
        current="home",
        attention=lines,
    )
