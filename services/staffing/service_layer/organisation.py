"""Use cases of the organisation the staffing service owns; each is one unit of work."""

from __future__ import annotations

from sqlalchemy import select

from libs.events.catalogue.organisation import (
    CommunityRegistered,
    FacilityRegistered,
    FacilitySnapshot,
    FacilityUpdated,
)
from libs.events.envelope import utc_now
from libs.events.unit_of_work import UnitOfWork
from services.staffing.adapters.schema import Community, Facility
from services.staffing.domain.organisation import CountyConfig, changes_to_publish

__all__ = [
    "FacilityAlreadyRegistered",
    "UnknownCommunity",
    "UnknownFacility",
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
    )


def _write(row: Facility, snapshot: FacilitySnapshot) -> None:
    row.name = snapshot.name
    row.community_id = snapshot.community_id
    row.county_code = snapshot.county_code
    row.tier = snapshot.tier.value
    row.facility_type = snapshot.facility_type.value
    row.parent_facility_id = snapshot.parent_facility_id
    row.departments = [d.model_dump(mode="json") for d in snapshot.departments]
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
        _check_references(uow, snapshot)
        _write(row, snapshot)
        event = FacilityUpdated(**snapshot.model_dump())
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
