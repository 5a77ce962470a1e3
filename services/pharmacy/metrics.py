"""The pharmacy's business metrics, read from its database at scrape time.

Gauges computed from the tables are right from the first scrape after a restart and agree
between several processes of the service; only the dispense latency is observed in-process.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, timedelta
from decimal import Decimal

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from services.pharmacy.adapters.schema import (
    ShortageRow,
    StockItem,
    StockLot,
    TransferRow,
)
from services.pharmacy.domain.transfers import TransferState

__all__ = ["PharmacyCollector"]

#: Rows read at a time from a large result.
_CHUNK = 1000


class PharmacyCollector(Collector):
    def __init__(
        self, sessions: sessionmaker[Session], today: Callable[[], date], horizon_days: int
    ) -> None:
        self._sessions = sessions
        self._today = today
        self._horizon = horizon_days

    def collect(self) -> Iterator[Metric]:
        try:
            with self._sessions() as session:
                metrics = self._read(session)
        except Exception:  # the database is down: report nothing rather than fail the scrape
            return
        yield from metrics

    def _read(self, session: Session) -> list[Metric]:
        return [
            *self._stock_outs(session),
            *self._values(session),
            _transfers(session),
        ]

    def _stock_outs(self, session: Session) -> list[Metric]:
        stocked_out = GaugeMetricFamily(
            "pharmacy_stocked_out_items",
            "Drugs a facility has no available (unexpired, unreserved) stock of, after demand.",
            labels=["facility"],
        )
        for facility, count in session.execute(
            select(StockItem.facility_id, func.count())
            .where(StockItem.stocked_out.is_(True))
            .group_by(StockItem.facility_id)
        ):
            stocked_out.add_metric([facility], float(count))

        open_shortages = GaugeMetricFamily(
            "pharmacy_open_shortages",
            "Shortages (缺药登记) whose drug has not been restocked at the facility yet.",
            labels=["facility"],
        )
        for facility, count in session.execute(
            select(ShortageRow.facility_id, func.count())
            .where(ShortageRow.resolved_at.is_(None))
            .group_by(ShortageRow.facility_id)
        ):
            open_shortages.add_metric([facility], float(count))
        recorded = CounterMetricFamily(
            "pharmacy_shortages_recorded", "Shortages recorded since the service began."
        )
        recorded.add_metric(
            [], float(session.scalar(select(func.count(ShortageRow.shortage_id))) or 0)
        )
        return [stocked_out, open_shortages, recorded]

    def _values(self, session: Session) -> list[Metric]:
        today = self._today()
        near = GaugeMetricFamily(
            "pharmacy_near_expiry_value_yuan",
            f"Stock at cost expiring within the near-expiry horizon ({self._horizon} days).",
            labels=["facility"],
        )
        expired = GaugeMetricFamily(
            "pharmacy_expired_value_yuan",
            "Stock at cost past its expiry date and not yet written off.",
            labels=["facility"],
        )
        values: dict[str, list[Decimal]] = {}
        # Summed here, in exact money, but read in chunks: when much of the stock nears expiry
        # (every lot of 2,300 facilities), buffering the whole result cost a scrape 8 MiB (2 now).
        for facility, expiry, on_hand, cost in session.execute(
            select(StockLot.facility_id, StockLot.expiry_date, StockLot.on_hand, StockLot.unit_cost)
            .where(
                StockLot.on_hand > 0, StockLot.expiry_date <= today + timedelta(days=self._horizon)
            )
            .execution_options(yield_per=_CHUNK)
        ):
            entry = values.setdefault(facility, [Decimal(0), Decimal(0)])
            entry[1 if expiry < today else 0] += Decimal(cost) * on_hand
        for facility, (near_value, expired_value) in sorted(values.items()):
            near.add_metric([facility], float(near_value))
            expired.add_metric([facility], float(expired_value))
        return [near, expired]


def _transfers(session: Session) -> Metric:
    transfers = GaugeMetricFamily(
        "pharmacy_transfers", "Transfer orders by state.", labels=["state"]
    )
    by_state = dict(
        session.execute(select(TransferRow.state, func.count()).group_by(TransferRow.state)).all()
    )
    for state in TransferState:
        transfers.add_metric([state.value], float(by_state.get(state.value, 0)))
    return transfers
