"""Staffing's copy of the community's organisation, kept from the administration's events.

The administration service owns the organisation (communities, member facilities and their
departments) and publishes it; staffing consumes it like every other service. It keeps its
copy in its own ``communities`` and ``facilities`` tables rather than in the shared
``libs.directory`` replica because its own queries and concepts are built on them: rotations,
sessions, positions and stationings refer to its facilities, coverage and the timetables join
them (host facility types, departments, active members), and the public API lists them.

The semantics are the directory's: facility events are full snapshots that overwrite the
row; an event older than the row (by the event's time against ``updated_at``) never
overwrites it, so a redelivered or replayed snapshot cannot undo a newer one; a closed
facility stays (its history refers to it) with ``active`` false and its ``closed_on``.
Fields staffing has no use for (``opening_hours``) are ignored.
"""

from __future__ import annotations

from datetime import UTC, datetime

from libs.events.catalogue.organisation import (
    CommunityRegistered,
    FacilityClosed,
    FacilityRegistered,
    FacilitySnapshot,
    FacilityUpdated,
)
from libs.events.unit_of_work import UnitOfWork
from services.staffing.adapters.schema import Community, Facility

__all__ = [
    "record_community",
    "record_facility_closed",
    "record_facility_registered",
    "record_facility_updated",
]


def _newer(stored: datetime, incoming: datetime) -> bool:
    """Whether an event of ``incoming`` time may overwrite a row written as of ``stored``."""
    if stored.tzinfo is None:  # SQLite hands back naive datetimes; they were stored in UTC
        stored = stored.replace(tzinfo=UTC)
    return incoming >= stored


def record_community(data: CommunityRegistered, uow: UnitOfWork) -> None:
    # Communities have one event type and no time column: the latest delivery wins (the
    # events of one community are ordered on their topic by its key).
    row = uow.session.get(Community, data.community_id)
    if row is None:
        row = Community(community_id=data.community_id)
        uow.session.add(row)
    row.name, row.county_code = data.name, data.county_code
    row.lead_facility_id = data.lead_facility_id


def _record_snapshot(data: FacilitySnapshot, uow: UnitOfWork) -> None:
    as_of = uow.event.time
    row = uow.session.get(Facility, data.facility_id)
    if row is None:  # an update before its registration (a lost copy) registers it
        row = Facility(facility_id=data.facility_id, active=True, closed_on=None)
        uow.session.add(row)
    elif not _newer(row.updated_at, as_of):
        return
    row.name = data.name
    row.community_id = data.community_id
    row.county_code = data.county_code
    row.tier = data.tier.value
    row.facility_type = data.facility_type.value
    row.parent_facility_id = data.parent_facility_id
    row.departments = [d.model_dump(mode="json") for d in data.departments]
    row.updated_at = as_of


def record_facility_registered(data: FacilityRegistered, uow: UnitOfWork) -> None:
    _record_snapshot(data, uow)


def record_facility_updated(data: FacilityUpdated, uow: UnitOfWork) -> None:
    _record_snapshot(data, uow)


def record_facility_closed(data: FacilityClosed, uow: UnitOfWork) -> None:
    # A closure of a facility never seen is dropped: there is nothing of it to close, and
    # nothing in staffing can refer to it.
    row = uow.session.get(Facility, data.facility_id)
    as_of = uow.event.time
    if row is not None and _newer(row.updated_at, as_of):
        row.active, row.closed_on, row.updated_at = False, data.closed_on, as_of
