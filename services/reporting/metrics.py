"""``reporting_indicator_value``: every indicator's value for the county's current day and
month, read from the database at scrape time (right after a restart, the same from every
process of the service).

Labels are bounded by the organisation: indicator × level × unit (facility, community,
county) × period kind — never a patient, an event or a period date.
"""

from __future__ import annotations

from collections.abc import Iterator

import structlog
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.orm import Session, sessionmaker

from services.reporting.domain.indicators import INDICATORS
from services.reporting.domain.periods import period_of
from services.reporting.domain.rules import County
from services.reporting.service_layer.queries import Readable, current_values

__all__ = ["IndicatorCollector"]

log = structlog.get_logger("reporting.metrics")

EVERYTHING = Readable(None)


class IndicatorCollector(Collector):
    def __init__(
        self,
        sessions: sessionmaker[Session],
        county: County,
    ) -> None:
        self._sessions = sessions
        self._county = county

    def collect(self) -> Iterator[GaugeMetricFamily]:
        gauge = GaugeMetricFamily(
            "reporting_indicator_value",
            "Each indicator's value (numerator ÷ denominator × factor) for the county's "
            "current day and month, by organisation unit; absent while undefined.",
            labels=["indicator", "level", "unit", "period"],
        )
        today = self._county.clock.today()
        try:
            with self._sessions() as session:
                for ind in INDICATORS:
                    for kind in ind.periods:
                        values = current_values(
                            session,
                            ind,
                            kind,
                            period_of(today, kind),
                            levels=ind.levels,
                            readable=EVERYTHING,
                        )
                        for v in values:
                            if v.value is not None:
                                labels = [ind.code, v.level.value, v.unit_id, kind.value]
                                gauge.add_metric(labels, float(v.value))
        except Exception as exc:  # the database is down: report nothing rather than fail
            log.warning("indicator gauges unavailable", error=type(exc).__name__)
            return
        yield gauge
