"""Business metrics of the staffing service, prefixed ``staffing_``.

Gauges are read from the database at scrape time, so they are right from the first scrape
after a restart and agree across several processes of the service. Refused changes are a
counter kept by each process (Prometheus sums them and survives its resets).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import structlog
from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from services.staffing.adapters.schema import ExpertSession, Stationing
from services.staffing.domain.calendar import week_start
from services.staffing.domain.coverage import evaluate
from services.staffing.service_layer.coverage import week_facts
from services.staffing.service_layer.unit_of_work import StaffingUnitOfWork

__all__ = ["StaffingCollector", "refusals_counter"]

log = structlog.get_logger("staffing.metrics")


def refusals_counter(registry: CollectorRegistry) -> Counter:
    """``staffing_rule_violations_total{rule}``: changes refused, by the rule they broke."""
    return Counter(
        "staffing_rule_violations",
        "Planning changes refused, by the scheduling rule they broke.",
        ["rule"],
        registry=registry,
    )


class StaffingCollector(Collector):
    """Sessions by facility and state, stationed physicians per facility, and this week's
    coverage rule misses."""

    def __init__(self, uow_factory: Callable[[], StaffingUnitOfWork]) -> None:
        self._uow_factory = uow_factory

    def collect(self) -> Iterator[GaugeMetricFamily]:
        sessions = GaugeMetricFamily(
            "staffing_sessions",
            "Expert sessions by host facility and state (planned, checked_in, delivered, "
            "missed, cancelled).",
            labels=["facility", "status"],
        )
        stationed = GaugeMetricFamily(
            "staffing_stationed_physicians",
            "Lead-hospital physicians stationed at each member facility today.",
            labels=["facility"],
        )
        misses = GaugeMetricFamily(
            "staffing_coverage_misses",
            "This week's subjects (people, communities, facilities) missing each coverage rule.",
            labels=["rule"],
        )
        try:
            with self._uow_factory() as uow:
                for facility_id, status, count in uow.session.execute(
                    select(ExpertSession.facility_id, ExpertSession.status, func.count()).group_by(
                        ExpertSession.facility_id, ExpertSession.status
                    )
                ).tuples():
                    sessions.add_metric([facility_id, status], float(count))
                today = uow.today()
                last_day = func.coalesce(Stationing.end_date, Stationing.planned_end_date)
                for facility_id, count in uow.session.execute(
                    select(Stationing.facility_id, func.count(func.distinct(Stationing.staff_id)))
                    .where(Stationing.start_date <= today, last_day >= today)
                    .group_by(Stationing.facility_id)
                ).tuples():
                    stationed.add_metric([facility_id], float(count))
                report = evaluate(uow.policy, week_facts(uow, week_start(today)))
                for rule in report.rules:
                    misses.add_metric([rule.rule_id], float(len(rule.misses)))
        except Exception as exc:  # the database is down: report nothing rather than fail
            log.warning("business metrics unavailable", error=type(exc).__name__)
            return
        yield sessions
        yield stationed
        yield misses
