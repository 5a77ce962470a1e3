"""Reading the replica."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from libs.directory.tables import KnownFacility
from libs.events.retry import PermanentError

__all__ = ["FacilityDirectory"]


class FacilityDirectory:
    def __init__(self, session: Session) -> None:
        self._session = session

    def get(self, facility_id: str) -> KnownFacility | None:
        return self._session.get(KnownFacility, facility_id)

    def require(self, facility_id: str) -> KnownFacility:
        """The facility, or a :class:`PermanentError` (``unknown_facility``) for the event."""
        facility = self.get(facility_id)
        if facility is None or not facility.active:
            raise PermanentError("unknown_facility", f"facility {facility_id} is not a member")
        return facility

    def all(self, *, community_id: str | None = None) -> list[KnownFacility]:
        query = select(KnownFacility).order_by(KnownFacility.facility_id)
        if community_id is not None:
            query = query.where(KnownFacility.community_id == community_id)
        return list(self._session.scalars(query))
