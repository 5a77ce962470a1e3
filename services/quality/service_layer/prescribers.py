"""The quality service's copy of the staff registry (from ``staffing.staff`` events): the
title a prescriber holds decides the antibiotic grades they may prescribe."""

from __future__ import annotations

from datetime import UTC, datetime

from libs.events.catalogue.staffing import (
    StaffDeactivated,
    StaffRegistered,
    StaffSnapshot,
    StaffUpdated,
)
from libs.events.unit_of_work import UnitOfWork
from services.quality.adapters.schema import Prescriber

__all__ = ["record_staff_deactivated", "record_staff_registered", "record_staff_updated"]


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _record(data: StaffSnapshot, uow: UnitOfWork) -> None:
    as_of = uow.event.time
    row = uow.session.get(Prescriber, data.staff_id)
    if row is None:
        row = Prescriber(staff_id=data.staff_id)
        uow.session.add(row)
    elif _aware(row.as_of) > as_of:
        return  # an older snapshot never overwrites a newer one
    row.title = data.title.value
    row.home_facility_id = data.home_facility_id
    row.active = True
    row.as_of = as_of


def record_staff_registered(data: StaffRegistered, uow: UnitOfWork) -> None:
    _record(data, uow)


def record_staff_updated(data: StaffUpdated, uow: UnitOfWork) -> None:
    _record(data, uow)


def record_staff_deactivated(data: StaffDeactivated, uow: UnitOfWork) -> None:
    row = uow.session.get(Prescriber, data.staff_id)
    if row is not None and _aware(row.as_of) <= uow.event.time:
        row.active, row.as_of = False, uow.event.time
