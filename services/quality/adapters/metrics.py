"""Review metrics, read from the quality database at scrape time (right after a restart,
and the same from every process)."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from services.quality.adapters.schema import HerbalOrderRow, Review

__all__ = ["ReviewCollector"]


class ReviewCollector(Collector):
    """``quality_reviews`` by state and outcome, ``quality_reviews_overdue`` (held past
    the SLA, still undecided)."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def collect(self) -> Iterator[Metric]:
        try:
            with self._sessions() as session:
                families = [self._reviews(session), self._overdue(session)]
                families.append(self._herbal_orders(session))
        except Exception:  # the database is down: report nothing rather than fail the scrape
            return
        yield from families

    @staticmethod
    def _reviews(session: Session) -> Metric:
        gauge = GaugeMetricFamily(
            "quality_reviews",
            "Prescriptions reviewed, by current state, the rules' outcome and facility.",
            labels=["state", "outcome", "facility"],
        )
        rows = session.execute(
            select(Review.state, Review.outcome, Review.facility_id, func.count()).group_by(
                Review.state, Review.outcome, Review.facility_id
            )
        )
        for state, outcome, facility, count in rows:
            gauge.add_metric([state, outcome, facility], float(count))
        return gauge

    @staticmethod
    def _overdue(session: Session) -> Metric:
        gauge = GaugeMetricFamily(
            "quality_reviews_overdue",
            "Held prescriptions past the review centre's SLA and still undecided.",
        )
        count = session.scalar(
            select(func.count()).where(Review.state == "held", Review.overdue_at.is_not(None))
        )
        gauge.add_metric([], float(count or 0))
        return gauge

    @staticmethod
    def _herbal_orders(session: Session) -> Metric:
        gauge = GaugeMetricFamily(
            "quality_herbal_orders",
            "Shared TCM pharmacy orders by state, and whether past their delivery SLA.",
            labels=["state", "overdue"],
        )
        overdue = HerbalOrderRow.overdue_at.is_not(None)
        rows = session.execute(
            select(HerbalOrderRow.state, overdue, func.count()).group_by(
                HerbalOrderRow.state, overdue
            )
        )
        for state, late, count in rows:
            gauge.add_metric([state, "true" if late else "false"], float(count))
        return gauge
