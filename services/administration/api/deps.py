"""What the administration routers share: the unit of work, roles, the period, refusals."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import Depends

from libs.platform.auth import Principal, Role
from libs.platform.http.dependencies import UnitOfWorkDep
from libs.platform.http.errors import ApiError
from libs.platform.http.security import require_roles
from services.administration.domain.appraisal import AppraisalRefused
from services.administration.domain.periods import HalfYear
from services.administration.service_layer.appraisals import AppraisalNotFound
from services.administration.service_layer.unit_of_work import (
    AdministrationUnitOfWork,
    administration_uow,
)

__all__ = [
    "REFUSALS",
    "AdministrationUow",
    "Commenters",
    "Committee",
    "Overseers",
    "ScorecardReaders",
    "half_year",
    "refusals",
]


def _uow(uow: UnitOfWorkDep) -> AdministrationUnitOfWork:
    return administration_uow(uow)


AdministrationUow = Annotated[AdministrationUnitOfWork, Depends(_uow)]

#: The management committee (county administrators) drafts, adjusts, approves and corrects.
Committee = Annotated[Principal, Depends(require_roles(Role.COUNTY_ADMIN))]
#: The whole appraisal: the committee, and finance and HR, who pay by it.
Overseers = Annotated[
    Principal, Depends(require_roles(Role.COUNTY_ADMIN, Role.FINANCE_CENTRE, Role.HR))
]
#: One member's scorecard: the overseers, and that member's own staff (checked per facility).
ScorecardReaders = Annotated[
    Principal,
    Depends(require_roles(Role.COUNTY_ADMIN, Role.FINANCE_CENTRE, Role.HR, Role.CLINIC_STAFF)),
]
#: Comments: the committee, and a member's own staff on their own scorecard.
Commenters = Annotated[Principal, Depends(require_roles(Role.COUNTY_ADMIN, Role.CLINIC_STAFF))]

REFUSALS: dict[int | str, dict[str, Any]] = {404: {}, 409: {}, 422: {}}


def half_year(period: str) -> HalfYear:
    """The path's period, or 422."""
    try:
        return HalfYear.parse(period)
    except ValueError as exc:
        raise ApiError(422, "invalid_period", str(exc)) from None


_UNPROCESSABLE = {"reason_required", "adjustment_too_large", "invalid_period"}


@contextmanager
def refusals() -> Iterator[None]:
    """The domain's refusals as the API's one error shape."""
    try:
        yield
    except AppraisalNotFound as exc:
        raise ApiError(404, "not_found", str(exc)) from None
    except AppraisalRefused as exc:
        status = 422 if exc.code in _UNPROCESSABLE else 409
        if exc.code == "not_appraised":
            status = 404
        raise ApiError(status, exc.code, str(exc)) from None
