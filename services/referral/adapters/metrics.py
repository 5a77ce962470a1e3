"""Business metrics of the referral service, read from its database at scrape time, so they
are right from the first scrape after a restart and the same from every process."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, sessionmaker

from services.referral.adapters.schema import Referral, SlaBreach

__all__ = ["TIME_TO_ACCEPT_BUCKETS", "ReferralCollector"]

#: Seconds from request to acceptance: 1, 5, 10, 30 min; 1, 2, 4, 12 h; 1, 2, 7 days.
TIME_TO_ACCEPT_BUCKETS = (
    60.0,
    300.0,
    600.0,
    1800.0,
    3600.0,
    7200.0,
    14400.0,
    43200.0,
    86400.0,
    172800.0,
    604800.0,
)


class ReferralCollector(Collector):
    """``referral_referrals``, ``referral_time_to_accept_seconds``, ``referral_sla_breaches``."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def collect(self) -> Iterator[Metric]:
        try:
            with self._sessions() as session:
                families = [
                    self._referrals(session),
                    self._time_to_accept(session),
                    self._breaches(session),
                ]
        except Exception:  # the database is down: report nothing rather than fail the scrape
            return
        yield from families

    @staticmethod
    def _referrals(session: Session) -> Metric:
        gauge = GaugeMetricFamily(
            "referral_referrals",
            "Referrals by direction, priority and current state.",
            labels=["direction", "priority", "state"],
        )
        rows = session.execute(
            select(Referral.direction, Referral.priority, Referral.state, func.count())
            .group_by(Referral.direction, Referral.priority, Referral.state)
            .order_by(Referral.direction, Referral.priority, Referral.state)
        )
        for direction, priority, state, count in rows:
            gauge.add_metric([direction, priority, state], float(count))
        return gauge

    @staticmethod
    def _time_to_accept(session: Session) -> Metric:
        histogram = HistogramMetricFamily(
            "referral_time_to_accept_seconds",
            "Time from request to acceptance, by priority.",
            labels=["priority"],
        )
        seconds = Referral.accept_seconds
        per_bucket = [
            func.sum(case((seconds <= bound, 1), else_=0)) for bound in TIME_TO_ACCEPT_BUCKETS
        ]
        rows = session.execute(
            select(Referral.priority, func.count(), func.sum(seconds), *per_bucket)
            .where(seconds.is_not(None))
            .group_by(Referral.priority)
            .order_by(Referral.priority)
        )
        for priority, count, total, *cumulative in rows:
            buckets = [
                (repr(bound), float(n or 0))
                for bound, n in zip(TIME_TO_ACCEPT_BUCKETS, cumulative, strict=True)
            ]
            buckets.append(("+Inf", float(count)))
            histogram.add_metric([priority], buckets, sum_value=float(total or 0))
        return histogram

    @staticmethod
    def _breaches(session: Session) -> Metric:
        counter = CounterMetricFamily(
            "referral_sla_breaches",
            "SLA breaches by priority and stage (each referral breaches a stage at most once).",
            labels=["priority", "stage"],
        )
        rows = session.execute(
            select(SlaBreach.priority, SlaBreach.stage, func.count())
            .group_by(SlaBreach.priority, SlaBreach.stage)
            .order_by(SlaBreach.priority, SlaBreach.stage)
        )
        for priority, stage, count in rows:
            counter.add_metric([priority, stage], float(count))
        return counter
