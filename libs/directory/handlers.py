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
from libs.events.envelope import CloudEvent
from libs.events.unit_of_work import UnitOfWork

__all__ = ["register_handlers"]


def _newer(stored: datetime, incoming: datetime) -> bool:
    if stored.tzinfo is None:  # SQLite hands back naive datetimes; they were stored in UTC
        stored = stored.replace(tzinfo=UTC)
    return incoming >= stored


def record_community(event: CloudEvent[CommunityRegistered], uow: UnitOfWork) -> None:
    data = event.data
    row = uow.session.get(KnownCommunity, data.community_id)
    if row is None:
        uow.session.add(
            KnownCommunity(
                community_id=data.community_id,
                name=data.name,
                county_code=data.county_code,
                lead_facility_id=data.lead_facility_id,
                as_of=event.time,
            )
        )
    elif _newer(row.as_of, event.time):
        row.name, row.county_code = data.name, data.county_code
        row.lead_facility_id, row.as_of = data.lead_facility_id, event.time


def _record_snapshot(event: CloudEvent[FacilitySnapshot], uow: UnitOfWork) -> None:
    data = event.data
    row = uow.session.get(KnownFacility, data.facility_id)
    values = {
        "name": data.name,
        "community_id": data.community_id,
        "county_code": data.county_code,
        "tier": data.tier.value,
        "facility_type": data.facility_type.value,
        "parent_facility_id": data.parent_facility_id,
        "departments": [d.model_dump(mode="json") for d in data.departments],
        "as_of": event.time,
    }
    if row is None:
        uow.session.add(KnownFacility(facility_id=data.facility_id, active=True, **values))
    elif _newer(row.as_of, event.time):
        for name, value in values.items():
            setattr(row, name, value)


def record_facility_registered(event: CloudEvent[FacilityRegistered], uow: UnitOfWork) -> None:
    _record_snapshot(event, uow)


def record_facility_updated(event: CloudEvent[FacilityUpdated], uow: UnitOfWork) -> None:
    _record_snapshot(event, uow)


def record_facility_closed(event: CloudEvent[FacilityClosed], uow: UnitOfWork) -> None:
    row = uow.session.get(KnownFacility, event.data.facility_id)
    if row is not None and _newer(row.as_of, event.time):
        row.active, row.closed_on, row.as_of = False, event.data.closed_on, event.time


def register_handlers(handlers: HandlerRegistry) -> None:
    """Add the replica's handlers to a service's registry."""
    handlers.on(CommunityRegistered)(record_community)
    handlers.on(FacilityRegistered)(record_facility_registered)
    handlers.on(FacilityUpdated)(record_facility_updated)
    handlers.on(FacilityClosed)(record_facility_closed)
