"""Business metrics of the finance service, prefixed ``finance_``.

Budget figures, the settlement backlog and the savings of result recognition are read from
the database at scrape time, so they are right from the first scrape after a restart;
postings are counted as they commit.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from libs.platform.clock import CountyClock
from services.finance.adapters.schema import Budget, InternalCharge, JournalLine, SettlementRun
from services.finance.domain.accounts import RECOGNITION_SAVINGS
from services.finance.domain.periods import next_period, period_end
from services.finance.service_layer.budgets import OPEN
from services.finance.service_layer.bundle_settlement import PROVISIONAL

__all__ = ["FinanceCollector", "postings_counter"]


def postings_counter(registry: CollectorRegistry) -> Counter:
    return Counter(
        "postings",
        "Journal entries posted (committed), by entry type.",
        ("entry_type",),
        namespace="finance",
        registry=registry,
    )


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _budget_families() -> dict[str, GaugeMetricFamily]:
    """The per-budget gauges, by name without the ``finance_`` prefix."""
    labels = ["community", "year"]
    return {
        "total": GaugeMetricFamily("finance_budget_total", "The yearly bundle.", labels=labels),
        "consumed": GaugeMetricFamily(
            "finance_budget_consumed", "Bundle consumed by claims so far.", labels=labels
        ),
        "remaining": GaugeMetricFamily(
            "finance_budget_remaining",
            "Bundle not yet consumed (negative: overspent).",
            labels=labels,
        ),
        "outside": GaugeMetricFamily(
            "finance_budget_consumed_out_of_county",
            "Bundle consumed by care outside the county.",
            labels=labels,
        ),
        "lag": GaugeMetricFamily(
            "finance_budget_settlement_lag_seconds",
            "Time since the end of the oldest month of an open budget that has ended and has "
            "no provisional settlement yet (0 when settlements are up to date).",
            labels=labels,
        ),
    }


def _backlog_families() -> dict[str, GaugeMetricFamily]:
    """The internal settlement's gauges, by kind of charge."""
    return {
        "lag": GaugeMetricFamily(
            "finance_settlement_lag_seconds",
            "Age of the oldest internal charge no settlement run has paid, by kind.",
            labels=["kind"],
        ),
        "amount": GaugeMetricFamily(
            "finance_unsettled_internal_amount",
            "Internal charges awaiting settlement, by kind.",
            labels=["kind"],
        ),
    }


def _savings_family() -> GaugeMetricFamily:
    return GaugeMetricFamily(
        "finance_recognition_savings",
        "Spending avoided by recognising earlier results (检查检验结果互认) so far: the balance "
        "of the memorandum account 9001 in the community's member books.",
        labels=["community"],
    )


class FinanceCollector(Collector):
    """Bundle consumption per budget, how far behind the settlements are, and what result
    recognition has saved."""

    def __init__(self, sessions: sessionmaker[Session], clock: CountyClock) -> None:
        self._sessions = sessions
        self._clock = clock

    def collect(self) -> Iterator[GaugeMetricFamily]:
        budgets, backlog, savings = _budget_families(), _backlog_families(), _savings_family()
        try:
            with self._sessions() as session:
                now = self._clock.now()
                self._measure_budgets(session, budgets, now)
                self._measure_backlog(session, backlog, now)
                self._measure_savings(session, savings)
        except Exception:  # the database is down: report nothing rather than fail the scrape
            return
        yield from budgets.values()
        yield from backlog.values()
        yield savings

    def _measure_budgets(
        self, session: Session, families: dict[str, GaugeMetricFamily], now: datetime
    ) -> None:
        """Each budget's figures, and how long its oldest ended month has waited to settle."""
        settled = dict(
            session.execute(
                select(SettlementRun.scope, func.max(SettlementRun.period))
                .where(SettlementRun.kind == PROVISIONAL)
                .group_by(SettlementRun.scope)
            ).all()
        )
        for b in session.scalars(select(Budget)):
            key = [b.community_id, str(b.year)]
            families["total"].add_metric(key, float(b.total))
            families["consumed"].add_metric(key, float(b.consumed))
            families["remaining"].add_metric(key, float(b.total - b.consumed))
            families["outside"].add_metric(key, float(b.consumed_out_of_county))
            if b.status == OPEN:
                last = settled.get(b.budget_id) or f"{b.year - 1:04d}-12"
                due = period_end(next_period(last), self._clock)
                families["lag"].add_metric(key, max(0.0, (now - due).total_seconds()))

    @staticmethod
    def _measure_backlog(
        session: Session, families: dict[str, GaugeMetricFamily], now: datetime
    ) -> None:
        """The internal charges no settlement run has paid yet, by kind."""
        pending = session.execute(
            select(
                InternalCharge.kind,
                func.min(InternalCharge.occurred_at),
                func.sum(InternalCharge.amount),
            )
            .where(InternalCharge.settlement_run_id.is_(None))
            .group_by(InternalCharge.kind)
        )
        for kind, oldest, amount in pending:
            families["lag"].add_metric([kind], max(0.0, (now - _aware(oldest)).total_seconds()))
            families["amount"].add_metric([kind], float(amount))

    @staticmethod
    def _measure_savings(session: Session, family: GaugeMetricFamily) -> None:
        """The avoided spending booked per community (reversals included), summed exactly."""
        booked = session.execute(
            select(
                JournalLine.community_id,
                func.sum(JournalLine.debit),
                func.sum(JournalLine.credit),
            )
            .where(JournalLine.account_code == RECOGNITION_SAVINGS)
            .group_by(JournalLine.community_id)
            .order_by(JournalLine.community_id)
        )
        for community, debit, credit in booked:
            family.add_metric([community], float(Decimal(debit) - Decimal(credit)))
