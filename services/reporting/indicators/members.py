"""Member facilities per community and tier, counted from organisation events."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from libs.directory import FacilityDirectory
from libs.events.catalogue.organisation import FacilityClosed, FacilityRegistered
from libs.events.unit_of_work import UnitOfWork
from services.reporting.adapters.schema import MemberCount

__all__ = ["MembersCollector", "count_closed", "count_registered", "member_counts"]


def _row(uow: UnitOfWork, community_id: str, tier: str) -> MemberCount:
    row = uow.session.get(MemberCount, (community_id, tier))
    if row is None:
        row = MemberCount(community_id=community_id, tier=tier, joined=0, left=0)
        uow.session.add(row)
    return row


def count_registered(data: FacilityRegistered, uow: UnitOfWork) -> None:
    """A member joins when the directory copy first hears of it (this runs before the copy
    is updated, see handlers.register_organisation): the same registration sent again, under
    any event id, is no new member."""
    if FacilityDirectory(uow.session).get(data.facility_id) is None:
        _row(uow, data.community_id, data.tier.value).joined += 1


def count_closed(data: FacilityClosed, uow: UnitOfWork) -> None:
    """A member leaves when its still-open copy closes (before the copy is updated): it says
    where it belonged, and a closing sent again finds it closed already."""
    facility = FacilityDirectory(uow.session).get(data.facility_id)
    if facility is not None and facility.active:
        _row(uow, facility.community_id, facility.tier).left += 1


def member_counts(session: Session) -> list[dict[str, int | str]]:
    rows = session.scalars(select(MemberCount).order_by(MemberCount.community_id, MemberCount.tier))
    return [
        {
            "community_id": r.community_id,
            "tier": r.tier,
            "joined": r.joined,
            "left": r.left,
            "members": r.joined - r.left,
        }
        for r in rows
    ]


class MembersCollector(Collector):
    """``reporting_member_facilities{community,tier}``, read from the database at scrape time
    so the gauge is right from the first scrape after a restart."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def collect(self) -> Iterator[GaugeMetricFamily]:
        gauge = GaugeMetricFamily(
            "reporting_member_facilities",
            "Member facilities per community and tier.",
            labels=["community", "tier"],
        )
        try:
            with self._sessions() as session:
                for row in member_counts(session):
                    gauge.add_metric(
                        [str(row["community_id"]), str(row["tier"])], float(row["members"])
                    )
        except Exception:  # the database is down: report nothing rather than fail the scrape
            return
        yield gauge
