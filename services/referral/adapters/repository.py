"""The referral records the use cases read and write, behind one small interface.

:class:`SqlReferralRepository` keeps them in the service's database; unit tests stand an
in-memory one in its place (``tests/unit/referral``), so a use case runs without one.
"""

from __future__ import annotations

from datetime import date
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from libs.directory import FacilityDirectory, KnownFacility
from services.referral.adapters.schema import (
    CapacityHold,
    DepartmentCapacity,
    FormularyDrug,
    Referral,
    TimelineEntry,
)
from services.referral.domain.capacity import CapacityKind, DayCapacity

__all__ = ["ReferralRepository", "SqlReferralRepository"]


class ReferralRepository(Protocol):
    def facility(self, facility_id: str) -> KnownFacility | None:
        """This service's copy of a facility of the organisation (None if never heard of)."""
        ...

    def drug(self, drug_code: str) -> FormularyDrug | None:
        """This service's copy of a drug of the unified catalogue."""
        ...

    def capacity_days(
        self, facility_id: str, department_id: str, start: date, end: date
    ) -> list[DayCapacity]:
        """What the department published for each day in ``[start, end]``, with its holds."""
        ...

    def add(self, record: Referral | TimelineEntry) -> None:
        """Keep a new referral or timeline step in the caller's transaction."""
        ...


class SqlReferralRepository:
    """The referral records in the database, in the session's transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def facility(self, facility_id: str) -> KnownFacility | None:
        return FacilityDirectory(self.session).get(facility_id)

    def drug(self, drug_code: str) -> FormularyDrug | None:
        return self.session.get(FormularyDrug, drug_code)

    def capacity_days(
        self, facility_id: str, department_id: str, start: date, end: date
    ) -> list[DayCapacity]:
        published = self.session.scalars(
            select(DepartmentCapacity)
            .where(
                DepartmentCapacity.facility_id == facility_id,
                DepartmentCapacity.department_id == department_id,
                DepartmentCapacity.day.between(start, end),
            )
            .order_by(DepartmentCapacity.day)
        ).all()
        held = self.held(facility_id, department_id, start, end)
        return [
            DayCapacity(
                day=row.day,
                slots=row.slots,
                beds=row.beds,
                held_slots=held.get((row.day, CapacityKind.SLOT), 0),
                held_beds=held.get((row.day, CapacityKind.BED), 0),
            )
            for row in published
        ]

    def held(
        self, facility_id: str, department_id: str, start: date, end: date
    ) -> dict[tuple[date, CapacityKind], int]:
        """The units held (not released) per day and kind."""
        rows = self.session.execute(
            select(CapacityHold.day, CapacityHold.kind, func.count())
            .where(
                CapacityHold.facility_id == facility_id,
                CapacityHold.department_id == department_id,
                CapacityHold.day.between(start, end),
                CapacityHold.released_at.is_(None),
            )
            .group_by(CapacityHold.day, CapacityHold.kind)
        )
        return {(day, CapacityKind(kind)): int(count) for day, kind, count in rows}

    def add(self, record: Referral | TimelineEntry) -> None:
        self.session.add(record)
