"""What a service's admin app declares about its routes: methods, paths and the roles its
dependencies admit (``require_roles`` marks its checks with ``allowed_roles``)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI

from libs.platform.auth import Role

MUTATING = {"POST", "PUT", "PATCH", "DELETE"}


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    roles: frozenset[Role]
    """Roles the route's dependencies admit; empty when none checks the role."""
    member_system: bool = False
    """Called by a member's information system with its own credential (the gateway's
    ingestion endpoints), not by a person with a token."""

    @property
    def path_params(self) -> list[str]:
        return re.findall(r"{(\w+)(?::\w+)?}", self.path)


def _roles(dependant: Any) -> frozenset[Role]:
    found: set[Role] = set()
    for dependency in getattr(dependant, "dependencies", []) or []:
        found |= set(getattr(dependency.call, "allowed_roles", ()))
        found |= _roles(dependency)
    return frozenset(found)


def _member_system(dependant: Any) -> bool:
    return any(
        getattr(dependency.call, "member_system", False) or _member_system(dependency)
        for dependency in getattr(dependant, "dependencies", []) or []
    )


def _contexts(app: FastAPI) -> Iterator[Any]:
    for route in app.routes:
        if hasattr(route, "effective_route_contexts"):  # an included router (FastAPI ≥ 0.16x)
            yield from route.effective_route_contexts()
        else:
            yield route


def mutating_operations(app: FastAPI) -> list[Operation]:
    """Every mutating operation of ``app`` with the roles it admits."""
    operations = set()
    for context in _contexts(app):
        methods = set(getattr(context, "methods", None) or ()) & MUTATING
        dependant = getattr(context, "dependant", None)
        for method in methods:
            operations.add(
                Operation(method, context.path, _roles(dependant), _member_system(dependant))
            )
    return sorted(operations, key=lambda o: (o.path, o.method))


#: Routes anyone may read without a token: probes, metrics, the API's own description, and
#: the residents' public timetable.
PUBLIC_READS = ("/healthz", "/readyz", "/metrics", "/docs", "/redoc", "/openapi.json", "/public/")


def browser_page(context: Any) -> bool:
    """A page of the console, for a person's browser: its own session cookie decides, not a
    bearer token (tests/integration/console/test_page_access.py); kept out of the API's
    schema, which is how it is told apart."""
    return getattr(context, "include_in_schema", True) is False and not context.path.startswith(
        PUBLIC_READS
    )


def read_operations(app: FastAPI) -> list[Operation]:
    """Every GET operation of ``app`` that needs a token, with the roles it admits."""
    operations = set()
    for context in _contexts(app):
        if "GET" not in (getattr(context, "methods", None) or ()):
            continue
        if context.path.startswith(PUBLIC_READS) or browser_page(context):
            continue
        operations.add(Operation("GET", context.path, _roles(getattr(context, "dependant", None))))
    return sorted(operations, key=lambda o: o.path)
