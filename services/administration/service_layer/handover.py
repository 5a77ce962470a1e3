"""Taking over the organisation already on the wire (the upgrade from staffing as its owner).

Before administration existed the staffing service owned the organisation and published it
on the ``organisation.*`` topics, which keep every record for ever. A suite upgraded to this
version starts administration with an empty database: had it published the county
configuration straight away, every facility would have been announced a second time, and a
member registered through staffing's API (in no configuration) would have been lost to it.

So on its first start administration reads both topics from the beginning and adopts what
they say, without publishing anything, before it looks at the configuration; only what
differs from the published organisation is announced then. The handover is recorded, so it
happens once; a record that fails the consumers' own checks is skipped, as they skip it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog

from libs.events.admission import admit_record
from libs.events.catalogue.organisation import (
    CommunityRegistered,
    FacilityClosed,
    FacilitySnapshot,
)
from libs.events.codec import PermanentDecodeError
from libs.events.envelope import CloudEvent
from libs.events.payload import Payload
from libs.events.unit_of_work import UnitOfWork
from services.administration.adapters.schema import Community, Facility, Handover

__all__ = ["ORGANISATION_TOPICS", "HandoverResult", "take_over"]

ORGANISATION_TOPICS = ("organisation.community", "organisation.facility")
_HANDOVER = "organisation"

log = structlog.get_logger("administration")


@dataclass(frozen=True)
class HandoverResult:
    records_read: int
    communities: int
    facilities: int


def take_over(
    uow: UnitOfWork, records: Iterable[tuple[str, bytes | None, bytes | None]]
) -> HandoverResult | None:
    """Adopt the organisation ``records`` (logical topic, key, value, in log order) say, once;
    ``None`` when the handover was already done."""
    with uow:
        if uow.session.get(Handover, _HANDOVER) is not None:
            return None
        events = [e for e in (_admitted(*r) for r in records) if e is not None]
        for event in events:
            _adopt(uow, event)
        result = HandoverResult(
            records_read=len(events),
            communities=len({e.subject for e in events if e.type.startswith("organisation.c")}),
            facilities=len({e.subject for e in events if e.type.startswith("organisation.f")}),
        )
        uow.session.add(
            Handover(
                handover_id=_HANDOVER,
                records_read=result.records_read,
                communities_adopted=result.communities,
                facilities_adopted=result.facilities,
                completed_at=datetime.now(UTC),
            )
        )
        uow.commit()
        return result


def _admitted(topic: str, key: bytes | None, value: bytes | None) -> CloudEvent[Payload] | None:
    try:
        return admit_record(value, key, topic=topic)
    except PermanentDecodeError as exc:
        log.warning("organisation record not adopted", topic=topic, reason=exc.reason)
        return None


def _adopt(uow: UnitOfWork, event: CloudEvent[Any]) -> None:
    data = event.data
    if isinstance(data, CommunityRegistered):
        row = uow.session.get(Community, data.community_id) or Community(
            community_id=data.community_id
        )
        row.name, row.county_code = data.name, data.county_code
        row.lead_facility_id = data.lead_facility_id
        uow.session.add(row)
    elif isinstance(data, FacilitySnapshot):
        _adopt_snapshot(uow, data, event.time)
    elif isinstance(data, FacilityClosed):
        facility = uow.session.get(Facility, data.facility_id)
        if facility is not None:
            facility.active, facility.closed_on = False, data.closed_on
            facility.closure_reason = data.reason
            facility.merged_into_facility_id = data.merged_into_facility_id
            facility.updated_at = event.time


def _adopt_snapshot(uow: UnitOfWork, data: FacilitySnapshot, at: datetime) -> None:
    row = uow.session.get(Facility, data.facility_id)
    if row is None:
        row = Facility(facility_id=data.facility_id, active=True)
        uow.session.add(row)
    row.name, row.community_id, row.county_code = data.name, data.community_id, data.county_code
    row.tier, row.facility_type = data.tier.value, data.facility_type.value
    row.parent_facility_id = data.parent_facility_id
    row.departments = [d.model_dump(mode="json") for d in data.departments]
    row.opening_hours = list(data.opening_hours)
    row.updated_at = at
