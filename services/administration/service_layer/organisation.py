"""Use cases of the organisation administration owns; each is one unit of work."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from libs.events.catalogue.organisation import (
    CommunityRegistered,
    FacilityClosed,
    FacilityRegistered,
    FacilitySnapshot,
    FacilityUpdated,
)
from libs.events.envelope import utc_now
from libs.events.unit_of_work import UnitOfWork
from services.administration.adapters.schema import Community, Facility
from services.administration.domain.organisation import (
    ClosureReason,
    CountyConfig,
    changes_to_publish,
    check_closure,
)

__all__ = [
    "FacilityAlreadyRegistered",
    "FacilityInactive",
    "UnknownCommunity",
    "UnknownFacility",
    "close_facility",
    "register_facility",
    "republish_organisation",
    "sync_county",
    "update_facility",
]


class UnknownCommunity(LookupError):
    pass


class UnknownFacility(LookupError):
    pass


class FacilityAlreadyRegistered(ValueError):
    pass


class FacilityInactive(ValueError):
    """The facility left, merged or closed: its record is history."""


def _snapshot(row: Facility) -> FacilitySnapshot:
    return FacilitySnapshot(
        facility_id=row.facility_id,
        name=row.name,
        community_id=row.community_id,
        county_code=row.county_code,
        tier=row.tier,
        facility_type=row.facility_type,
        parent_facility_id=row.parent_facility_id,
        departments=row.departments,
        opening_hours=row.opening_hours or [],
    )


def _write(row: Facility, snapshot: FacilitySnapshot) -> None:
    row.name = snapshot.name
    row.community_id = snapshot.community_id
    row.county_code = snapshot.county_code
    row.tier = snapshot.tier.value
    row.facility_type = snapshot.facility_type.value
    row.parent_facility_id = snapshot.parent_facility_id
    row.departments = [d.model_dump(mode="json") for d in snapshot.departments]
    row.opening_hours = list(snapshot.opening_hours)
    row.updated_at = utc_now()


def sync_county(uow: UnitOfWork, config: CountyConfig) -> list[str]:
    """Publish every community and facility of ``config`` that is new or changed.

    Returns the ids of the facilities published; running it twice publishes nothing the
    second time.
    """
    with uow:
        session = uow.session
        for community in config.communities:
            if session.get(Community, community.community_id) is None:
                session.add(Community(**community.model_dump()))
                uow.publish(community)
        rows = {row.facility_id: row for row in session.scalars(select(Facility))}
        published = {fid: _snapshot(row) for fid, row in rows.items()}
        changes = changes_to_publish(published, config.facilities)
        for change in changes:
            row = rows.get(change.snapshot.facility_id)
            if row is None:
                row = Facility(facility_id=change.snapshot.facility_id, active=True)
                session.add(row)
            _write(row, change.snapshot)
            uow.publish(change.event())
        uow.commit()
        return [c.snapshot.facility_id for c in changes]


def _check_references(uow: UnitOfWork, snapshot: FacilitySnapshot) -> None:
    if uow.session.get(Community, snapshot.community_id) is None:
        raise UnknownCommunity(f"community {snapshot.community_id} does not exist")
    parent = snapshot.parent_facility_id
    if parent is not None and uow.session.get(Facility, parent) is None:
        raise UnknownFacility(f"parent facility {parent} does not exist")


def register_facility(uow: UnitOfWork, snapshot: FacilitySnapshot) -> FacilityRegistered:
    """A new member joins: stored and announced in one transaction."""
    with uow:
        if uow.session.get(Facility, snapshot.facility_id) is not None:
            raise FacilityAlreadyRegistered(f"facility {snapshot.facility_id} already exists")
        _check_references(uow, snapshot)
        row = Facility(facility_id=snapshot.facility_id, active=True)
        _write(row, snapshot)
        uow.session.add(row)
        event = FacilityRegistered(**snapshot.model_dump())
        uow.publish(event)
        uow.commit()
        return event


def update_facility(uow: UnitOfWork, snapshot: FacilitySnapshot) -> FacilityUpdated:
    with uow:
        row = uow.session.get(Facility, snapshot.facility_id)
        if row is None:
            raise UnknownFacility(f"facility {snapshot.facility_id} does not exist")
        if not row.active:
            raise FacilityInactive(f"facility {snapshot.facility_id} is closed")
        _check_references(uow, snapshot)
        _write(row, snapshot)
        event = FacilityUpdated(**snapshot.model_dump())
        uow.publish(event)
        uow.commit()
        return event


def close_facility(
    uow: UnitOfWork,
    facility_id: str,
    reason: ClosureReason,
    closed_on: date,
    merged_into: str | None = None,
) -> FacilityClosed:
    """A member leaves, merges into another, or closes: kept (its history stays) but no
    longer active, and announced."""
    with uow:
        row = uow.session.get(Facility, facility_id)
        if row is None:
            raise UnknownFacility(f"facility {facility_id} does not exist")
        active = set(uow.session.scalars(select(Facility.facility_id).where(Facility.active)))
        leads = set(uow.session.scalars(select(Community.lead_facility_id)))
        check_closure(facility_id, reason, merged_into, active=active, leads=leads)
        now = utc_now()
        row.active, row.closed_on, row.closure_reason = False, closed_on, reason.value
        row.merged_into_facility_id, row.updated_at = merged_into, now
        event = FacilityClosed(
            facility_id=facility_id,
            closed_on=closed_on,
            reason=reason.value,
            closed_at=now,
            merged_into_facility_id=merged_into,
        )
        uow.publish(event)
        uow.commit()
        return event


def republish_organisation(uow: UnitOfWork) -> int:
    """Announce every community and active facility again (as updates).

    For consumers that lost their copy, e.g. after the embedded broker, which keeps nothing,
    restarted under a service whose database was reset. Consumers apply snapshots
    idempotently, so the republished events change nothing where copies are current.
    """
    with uow:
        count = 0
        for community in uow.session.scalars(select(Community)):
            uow.publish(
                CommunityRegistered(
                    community_id=community.community_id,
                    name=community.name,
                    county_code=community.county_code,
                    lead_facility_id=community.lead_facility_id,
                )
            )
        for row in uow.session.scalars(select(Facility).where(Facility.active.is_(True))):
            uow.publish(FacilityUpdated(**_snapshot(row).model_dump()))
            count += 1
        uow.commit()
        return count
