"""The console's workbenches (工作台) and who opens each: the menu a person sees is only what
their role may use. The services still decide every read and action on their own; this only
keeps a person from being shown a door that would refuse them."""

from __future__ import annotations

from dataclasses import dataclass

from libs.platform.auth import Role

__all__ = ["WORKBENCHES", "Workbench", "opens", "workbenches_for"]

CENTRAL = frozenset({Role.COUNTY_ADMIN, Role.PHARMACY_CENTRE, Role.FINANCE_CENTRE, Role.HR})


@dataclass(frozen=True)
class Workbench:
    key: str
    title: str
    path: str
    roles: frozenset[Role]


WORKBENCHES = (
    Workbench("home", "首页", "/", frozenset(Role)),
    Workbench("referrals", "转诊", "/referrals", frozenset({Role.COUNTY_ADMIN, Role.CLINIC_STAFF})),
    Workbench(
        "pharmacy",
        "药事",
        "/pharmacy",
        frozenset({Role.COUNTY_ADMIN, Role.PHARMACY_CENTRE, Role.CLINIC_STAFF}),
    ),
    Workbench(
        "staffing", "人事", "/staffing", frozenset({Role.COUNTY_ADMIN, Role.HR, Role.CLINIC_STAFF})
    ),
    Workbench("review", "审方", "/review", frozenset({Role.COUNTY_ADMIN, Role.PHARMACY_CENTRE})),
    Workbench(
        "finance",
        "财务",
        "/finance",
        frozenset({Role.COUNTY_ADMIN, Role.FINANCE_CENTRE, Role.CLINIC_STAFF}),
    ),
    Workbench(
        "appraisal",
        "考核",
        "/appraisal",
        frozenset({Role.COUNTY_ADMIN, Role.FINANCE_CENTRE, Role.HR, Role.CLINIC_STAFF}),
    ),
    Workbench("report", "报表", "/report", frozenset(Role)),
    Workbench("operations", "运维", "/operations", frozenset({Role.COUNTY_ADMIN})),
    Workbench("accounts", "账户", "/accounts", frozenset({Role.COUNTY_ADMIN})),
)


def opens(role: Role, key: str) -> bool:
    return any(bench.key == key and role in bench.roles for bench in WORKBENCHES)


def workbenches_for(role: Role) -> list[Workbench]:
    return [bench for bench in WORKBENCHES if role in bench.roles]
