"""Who may see and do what in the finance API.

The finance centre (财务中心) keeps everyone's books: it reads all and is the only role that
posts, settles and closes. The management centre reads all. Clinic staff read their own
facility's books only.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Query, Request

from libs.events.payload import PERIOD_PATTERN
from libs.platform.auth import Principal, Role
from libs.platform.http.errors import ApiError
from libs.platform.http.security import ensure_facility, require_roles
from services.finance.service_layer.unit_of_work import FinanceUnitOfWork

__all__ = [
    "BooksReader",
    "CentralReader",
    "FinanceCentre",
    "FinanceUow",
    "PeriodPath",
    "PeriodQuery",
    "scope_to_facility",
]


FinanceCentre = Annotated[Principal, Depends(require_roles(Role.FINANCE_CENTRE))]
CentralReader = Annotated[Principal, Depends(require_roles(Role.FINANCE_CENTRE, Role.COUNTY_ADMIN))]
BooksReader = Annotated[
    Principal,
    Depends(require_roles(Role.FINANCE_CENTRE, Role.COUNTY_ADMIN, Role.CLINIC_STAFF)),
]
PeriodQuery = Annotated[
    str | None, Query(pattern=PERIOD_PATTERN, description="An accounting period, YYYY-MM")
]
PeriodPath = Annotated[
    str, Path(pattern=PERIOD_PATTERN, description="An accounting period, YYYY-MM")
]


def finance_uow(request: Request) -> FinanceUnitOfWork:
    """A fresh finance unit of work (the endpoint opens it and commits explicitly)."""
    uow = request.app.state.uow_factory()
    if not isinstance(uow, FinanceUnitOfWork):
        raise RuntimeError("the finance app needs a FinanceUnitOfWork factory")
    correlation = request.headers.get("x-correlation-id")
    if correlation and 0 < len(correlation) <= 64:
        uow.correlation_id = correlation
    return uow


FinanceUow = Annotated[FinanceUnitOfWork, Depends(finance_uow)]


def scope_to_facility(principal: Principal, facility_id: str | None) -> str | None:
    """The facility a reader's query is limited to: clinic staff see their own books only."""
    if principal.role is not Role.CLINIC_STAFF:
        return facility_id
    if facility_id is None:
        if principal.facility_id is None:
            raise ApiError(403, "forbidden", "this token names no facility")
        return principal.facility_id
    ensure_facility(principal, facility_id)
    return facility_id
