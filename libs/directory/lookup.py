"""Reading the replica."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from libs.directory.tables import KnownCommunity, KnownFacility
from libs.events.retry import NotYetKnown, PermanentError

__all__ = ["FacilityDirectory"]


class FacilityDirectory:
    def __init__(self, session: Session) -> None:
        self._session = session

    def get(self, facility_id: str) -> KnownFacility | None:
        return self._session.get(KnownFacility, facility_id)

    def require(self, facility_id: str) -> KnownFacility:
        """The facility, or ``unknown_facility``: :class:`NotYetKnown` when this copy has not
        heard of it (yet), :class:`PermanentError` when it is closed."""
        facility = self.get(facility_id)
        if facility is None:
            raise NotYetKnown("unknown_facility", f"facility {facility_id} is not a member")
        if not facility.active:
            raise PermanentError("unknown_facility", f"facility {facility_id} is not a member")
        return facility

    def all(self, *, community_id: str | None = None) -> list[KnownFacility]:
        query = select(KnownFacility).order_by(KnownFacility.facility_id)
        if community_id is not None:
            query = query.where(KnownFacility.community_id == community_id)
        return list(self._session.scalars(query))

    def communities(self) -> list[KnownCommunity]:
        return list(
            self._session.scalars(select(KnownCommunity).order_by(KnownCommunity.community_id))
        )
