"""What every pharmacy router shares: the unit of work, roles, facility scope, error mapping."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from libs.platform.auth import Principal, Role
from libs.platform.http.dependencies import UnitOfWorkDep
from libs.platform.http.security import ensure_facility, require_roles
from services.pharmacy.service_layer.unit_of_work import PharmacyUnitOfWork, pharmacy_uow

__all__ = [
    "PharmacyCentre",
    "PharmacyUow",
    "StockKeeper",
    "StockReader",
    "StockValueReader",
    "act_for",
]


async def _pharmacy_uow(uow: UnitOfWorkDep) -> PharmacyUnitOfWork:
    # async: no I/O here, and a sync dependency costs a thread-pool hop per request
    return pharmacy_uow(uow)


PharmacyUow = Annotated[PharmacyUnitOfWork, Depends(_pharmacy_uow)]

#: The central pharmacy (中心药房): manages the formulary and transfers for everyone.
PharmacyCentre = Annotated[Principal, Depends(require_roles(Role.PHARMACY_CENTRE))]
#: Who moves stock at a facility: the central pharmacy anywhere, clinic staff at their own.
StockKeeper = Annotated[Principal, Depends(require_roles(Role.PHARMACY_CENTRE, Role.CLINIC_STAFF))]

#: Who reads stock, lots, transfers, shortages and reservations: the central pharmacy and the
#: management centre everywhere, clinic staff at their own facility (each route scopes them).
StockReader = Annotated[
    Principal,
    Depends(require_roles(Role.PHARMACY_CENTRE, Role.COUNTY_ADMIN, Role.CLINIC_STAFF)),
]
#: The value of near-expiry and expired stock is also the finance centre's (write-offs).
StockValueReader = Annotated[
    Principal,
    Depends(
        require_roles(
            Role.PHARMACY_CENTRE, Role.COUNTY_ADMIN, Role.CLINIC_STAFF, Role.FINANCE_CENTRE
        )
    ),
]


def act_for(principal: Principal, facility_id: str) -> None:
    """403 unless the caller may see or act for the facility (clinic staff: their own)."""
    ensure_facility(principal, facility_id)
