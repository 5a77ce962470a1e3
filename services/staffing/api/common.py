"""What the staffing routers share: the unit of work, roles, and how refusals are answered."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from libs.platform.auth import Principal, Role
from libs.platform.http.dependencies import UnitOfWorkDep
from libs.platform.http.security import require_roles
from services.staffing.service_layer.unit_of_work import StaffingUnitOfWork

__all__ = [
    "AttendanceRecorder",
    "Planner",
    "StaffingUow",
    "TimetableReader",
]


def _staffing_uow(uow: UnitOfWorkDep) -> StaffingUnitOfWork:
    if not isinstance(uow, StaffingUnitOfWork):
        raise RuntimeError("the staffing service runs with StaffingUnitOfWork")
    return uow


StaffingUow = Annotated[StaffingUnitOfWork, Depends(_staffing_uow)]

#: HR manages the registry, rotations and leave; the management centre can do everything.
Planner = Annotated[Principal, Depends(require_roles(Role.HR, Role.COUNTY_ADMIN))]
#: Clinic staff record attendance at their own facility (checked per session).
AttendanceRecorder = Annotated[
    Principal, Depends(require_roles(Role.CLINIC_STAFF, Role.COUNTY_ADMIN))
]
#: Who reads a facility's timetable as JSON (clinic staff: their own facility only).
#: The registry, positions, stationings and the weeks' states are personnel records: HR's
#: and the management centre's, not every clinic's (a clinic reads its own timetable).
PersonnelReader = Annotated[Principal, Depends(require_roles(Role.HR, Role.COUNTY_ADMIN))]
TimetableReader = Annotated[
    Principal, Depends(require_roles(Role.CLINIC_STAFF, Role.HR, Role.COUNTY_ADMIN))
]
