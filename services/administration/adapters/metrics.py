"""Appraisal metrics, read from the administration database at scrape time (right after a
restart, and the same from every process)."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session, sessionmaker

from services.administration.adapters.schema import AppraisalRow, ScorecardRow
from services.administration.domain.appraisal import AppraisalState

__all__ = ["RECENT_PERIODS", "AppraisalCollector"]

#: Member scores are exported for this many latest half-years only (three years), which
#: bounds the series to members × 6; older ones are in the reports.
RECENT_PERIODS = 6


class AppraisalCollector(Collector):
    """``administration_member_score`` (each member's total in the newest revision of the
    recent half-years) and ``administration_appraisals`` (revisions by state)."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def collect(self) -> Iterator[Metric]:
        try:
            with self._sessions() as session:
                families = [self._scores(session), self._appraisals(session)]
        except Exception:  # the database is down: report nothing rather than fail the scrape
            return
        yield from families

    @staticmethod
    def _scores(session: Session) -> Metric:
        gauge = GaugeMetricFamily(
            "administration_member_score",
            "A member's appraisal total (0-100, adjustment included) in the newest revision "
            f"of each of the last {RECENT_PERIODS} half-years.",
            labels=["period", "revision", "state", "facility_id", "community_id"],
        )
        newest = (
            select(AppraisalRow.period, func.max(AppraisalRow.revision).label("revision"))
            .group_by(AppraisalRow.period)
            .order_by(AppraisalRow.period.desc())
            .limit(RECENT_PERIODS)
        ).subquery()
        rows = session.execute(
            select(
                ScorecardRow.period,
                ScorecardRow.revision,
                AppraisalRow.state,
                ScorecardRow.facility_id,
                ScorecardRow.community_id,
                ScorecardRow.total,
            )
            .join(
                AppraisalRow,
                (AppraisalRow.period == ScorecardRow.period)
                & (AppraisalRow.revision == ScorecardRow.revision),
            )
            .where(
                tuple_(ScorecardRow.period, ScorecardRow.revision).in_(
                    select(newest.c.period, newest.c.revision)
                )
            )
        )
        for period, revision, state, facility, community, total in rows:
            gauge.add_metric([period, str(revision), state, facility, community], float(total))
        return gauge

    @staticmethod
    def _appraisals(session: Session) -> Metric:
        gauge = GaugeMetricFamily(
            "administration_appraisals",
            "Appraisal revisions (every half-year) by state: draft, approved, superseded.",
            labels=["state"],
        )
        rows = session.execute(
            select(AppraisalRow.state, func.count()).group_by(AppraisalRow.state)
        )
        counts = {state.value: 0 for state in AppraisalState} | dict(rows.tuples().all())
        for state, count in counts.items():
            gauge.add_metric([state], float(count))
        return gauge
