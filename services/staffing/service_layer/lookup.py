"""Reading the records the use cases act on: staff, host facilities, a person's diary."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from libs.events.catalogue.staffing import StaffSnapshot
from libs.events.catalogue.values import FacilityType, HalfDay, StaffTitle
from services.staffing.adapters.schema import (
    ExpertSession,
    Facility,
    StaffMember,
)
from services.staffing.domain.calendar import Slot
from services.staffing.domain.rules import Diary, HeldSession, Rule, Violation
from services.staffing.domain.sessions import HOLDING
from services.staffing.service_layer.errors import UnknownReference
from services.staffing.service_layer.unit_of_work import StaffingUnitOfWork

__all__ = [
    "HOLDING",
    "aware",
    "diary",
    "facility",
    "held",
    "host_facility",
    "new_id",
    "snapshot",
    "staff_member",
]


def aware(stored: datetime) -> datetime:
    """A stored instant with its zone (SQLite hands back naive datetimes; they are UTC)."""
    return stored.replace(tzinfo=UTC) if stored.tzinfo is None else stored


def new_id(prefix: str) -> str:
    """A fresh identifier such as ``SES-3F2A9C0D1B2E4F60``."""
    return f"{prefix}-{uuid.uuid4().hex[:16].upper()}"


def staff_member(uow: StaffingUnitOfWork, staff_id: str) -> StaffMember:
    """The registry record, or ``unknown_staff``."""
    row = uow.workforce.staff_member(staff_id)
    if row is None:
        raise UnknownReference("unknown_staff", f"staff member {staff_id} does not exist")
    return row


def facility(uow: StaffingUnitOfWork, facility_id: str) -> Facility:
    row = uow.workforce.facility(facility_id)
    if row is None or not row.active:
        raise UnknownReference("unknown_facility", f"facility {facility_id} does not exist")
    return row


def host_facility(
    uow: StaffingUnitOfWork, facility_id: str, staff: StaffMember
) -> tuple[Facility, list[Violation]]:
    """The member facility a session of ``staff`` would be held at, and what is wrong with it."""
    row = facility(uow, facility_id)
    problems = []
    if FacilityType(row.facility_type) not in uow.policy.host_facility_types:
        problems.append(
            Violation(
                Rule.NOT_A_HOST_FACILITY,
                f"{row.name} is a {row.facility_type}; sessions are held at "
                + ", ".join(sorted(t.value for t in uow.policy.host_facility_types)),
            )
        )
    if row.facility_id == staff.home_facility_id:
        problems.append(
            Violation(
                Rule.HOME_FACILITY,
                f"{row.name} is {staff.display_name}'s home facility: a session there sends "
                "nobody down",
            )
        )
    return row, problems


def snapshot(row: StaffMember) -> StaffSnapshot:
    """The registry record as the events carry it."""
    return StaffSnapshot(
        staff_id=row.staff_id,
        display_name=row.display_name,
        home_facility_id=row.home_facility_id,
        department_id=row.department_id,
        title=StaffTitle(row.title),
        specialty=row.specialty,
        active_from=row.active_from,
        active_until=row.active_until,
    )


def diary(uow: StaffingUnitOfWork, staff: StaffMember, first: date, last: date) -> Diary:
    """What ``staff`` is committed to between ``first`` and ``last``."""
    return uow.workforce.diary(staff, first, last)


def held(row: ExpertSession) -> HeldSession:
    """A stored session as the rules see it."""
    return HeldSession(
        row.session_id, row.facility_id, Slot(row.date, HalfDay(row.half_day)), row.status
    )
