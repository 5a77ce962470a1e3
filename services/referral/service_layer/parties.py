"""The facilities and departments of a referral, looked up in this service's copy of the
organisation (unknown or closed ones are refused with ``unknown_facility``/``_department``)."""

from __future__ import annotations

from libs.directory import KnownFacility
from libs.events.catalogue.values import FacilityType
from services.referral.adapters.repository import ReferralRepository
from services.referral.domain.rules import FacilityRole
from services.referral.service_layer.errors import RuleViolation

__all__ = ["department_specialty", "facility_role", "member_facility"]


def member_facility(records: ReferralRepository, facility_id: str, field: str) -> KnownFacility:
    facility = records.facility(facility_id)
    if facility is None or not facility.active:
        raise RuleViolation(
            "unknown_facility", f"{field} {facility_id} is not a member facility", {"field": field}
        )
    return facility


def _department(facility: KnownFacility, department_id: str) -> dict[str, str] | None:
    for department in facility.departments or []:
        if department.get("department_id") == department_id:
            return department
    return None


def facility_role(
    records: ReferralRepository, facility_id: str, department_id: str | None, *, side: str
) -> tuple[KnownFacility, FacilityRole]:
    """The facility (and department, if named) on one ``side`` (``from``, ``to`` or ``""``)."""
    prefix = f"{side}_" if side else ""
    facility = member_facility(records, facility_id, f"{prefix}facility_id")
    if department_id is not None and _department(facility, department_id) is None:
        raise RuleViolation(
            "unknown_department",
            f"{prefix}department_id {department_id} is not a department of {facility_id}",
            {"field": f"{prefix}department_id"},
        )
    role = FacilityRole(facility_id, FacilityType(facility.facility_type), department_id)
    return facility, role


def department_specialty(facility: KnownFacility, department_id: str | None) -> str | None:
    """The specialty a department practises (used as the default follow-up specialty)."""
    if department_id is None:
        return None
    department = _department(facility, department_id)
    return department.get("specialty") if department else None
