"""Keeping the replica: snapshot events overwrite, older snapshots never win."""

from __future__ import annotations

from datetime import UTC, datetime

from libs.directory.tables import KnownCommunity, KnownFacility
from libs.events.catalogue.organisation import (
    CommunityRegistered,
    FacilityClosed,
    FacilityRegistered,
    FacilitySnapshot,
    FacilityUpdated,
)
from libs.events.consuming import HandlerRegistry
from libs.events.unit_of_work import UnitOfWork

__all__ = ["register_handlers"]


def _newer(stored: datetime, incoming: datetime) -> bool:
    if stored.tzinfo is None:  # SQLite hands back naive datetimes; they were stored in UTC
        stored = stored.replace(tzinfo=UTC)
    return incoming >= stored


def record_community(data: CommunityRegistered, uow: UnitOfWork) -> None:
    as_of = uow.event.time
    row = uow.session.get(KnownCommunity, data.community_id)
    if row is None:
        uow.session.add(
            KnownCommunity(
                community_id=data.community_id,
                name=data.name,
                county_code=data.county_code,
                lead_facility_id=data.lead_facility_id,
                as_of=as_of,
            )
        )
    elif _newer(row.as_of, as_of):
        row.name, row.county_code = data.name, data.county_code
        row.lead_facility_id, row.as_of = data.lead_facility_id, as_of


def _record_snapshot(data: FacilitySnapshot, uow: UnitOfWork) -> None:
    as_of = uow.event.time
    row = uow.session.get(KnownFacility, data.facility_id)
    values = {
        "name": data.name,
        "community_id": data.community_id,
        "county_code": data.county_code,
        "tier": data.tier.value,
        "facility_type": data.facility_type.value,
        "parent_facility_id": data.parent_facility_id,
        "departments": [d.model_dump(mode="json") for d in data.departments],
        "as_of": as_of,
    }
    if row is None:
        uow.session.add(KnownFacility(facility_id=data.facility_id, active=True, **values))
    elif _newer(row.as_of, as_of):
        for name, value in values.items():
            setattr(row, name, value)


def record_facility_registered(data: FacilityRegistered, uow: UnitOfWork) -> None:
    _record_snapshot(data, uow)


def record_facility_updated(data: FacilityUpdated, uow: UnitOfWork) -> None:
    _record_snapshot(data, uow)


def record_facility_closed(data: FacilityClosed, uow: UnitOfWork) -> None:
    row = uow.session.get(KnownFacility, data.facility_id)
    as_of = uow.event.time
    if row is not None and _newer(row.as_of, as_of):
        row.active, row.closed_on, row.as_of = False, data.closed_on, as_of


def register_handlers(handlers: HandlerRegistry) -> None:
    """Add the replica's handlers to a service's registry."""
    handlers.on(CommunityRegistered)(record_community)
    handlers.on(FacilityRegistered)(record_facility_registered)
    handlers.on(FacilityUpdated)(record_facility_updated)
    handlers.on(FacilityClosed)(record_facility_closed)
