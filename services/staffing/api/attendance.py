"""Admin HTTP for attendance: clinic staff record who came to their facility's sessions.

A repeated request (a second check-in, a second check-out) is answered 409 with what
already happened (``already_checked_in``, ``already_delivered``...) and changes nothing.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from libs.events.payload import Count
from libs.platform.auth import Principal
from libs.platform.http.security import ensure_facility
from services.staffing.api.common import AttendanceRecorder, StaffingUow
from services.staffing.service_layer import attendance
from services.staffing.service_layer.unit_of_work import StaffingUnitOfWork
from services.staffing.service_layer.views import session_view

router = APIRouter(prefix="/sessions/{session_id}", tags=["attendance"])


class CheckOut(BaseModel):
    """How the session went: counts only, never anything about a patient."""

    model_config = ConfigDict(extra="forbid")

    patients_seen: Count
    home_visits: Count = 0


def _may_record(principal: Principal, uow: StaffingUnitOfWork, session_id: str) -> None:
    ensure_facility(principal, attendance.session_facility(uow, session_id))


@router.post("/check-in", summary="The specialist arrived")
def check_in(session_id: str, principal: AttendanceRecorder, uow: StaffingUow) -> dict[str, Any]:
    _may_record(principal, uow, session_id)
    return session_view(attendance.check_in(uow, session_id))


@router.post(
    "/check-out",
    summary="The session took place: announced once as staffing.session.delivered",
)
def check_out(
    session_id: str, body: CheckOut, principal: AttendanceRecorder, uow: StaffingUow
) -> dict[str, Any]:
    _may_record(principal, uow, session_id)
    row = attendance.check_out(
        uow, session_id, patients_seen=body.patients_seen, home_visits=body.home_visits
    )
    return session_view(row)


@router.post("/no-show", summary="The specialist did not come")
def no_show(session_id: str, principal: AttendanceRecorder, uow: StaffingUow) -> dict[str, Any]:
    _may_record(principal, uow, session_id)
    return session_view(attendance.no_show(uow, session_id))
