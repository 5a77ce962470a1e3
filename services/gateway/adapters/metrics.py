"""Feed metrics, read from the gateway's database at scrape time (right after a restart, and
the same from every process): whether each feed is silent, when it last sent, and what was
accepted and refused today. Labels name systems and facilities, never a patient."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from services.gateway.adapters.schema import FeedHour, FeedRefusal, FeedState, MemberSystem
from services.gateway.adapters.systems import utc

__all__ = ["FeedCollector"]


class FeedCollector(Collector):
    """``gateway_feed_silent``, ``gateway_feed_last_message_age_seconds``,
    ``gateway_feed_messages`` and ``gateway_feed_refusals``."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def collect(self) -> Iterator[Metric]:
        try:
            with self._sessions() as session:
                families = [*self._feeds(session), *self._counts(session)]
        except Exception:  # the database is down: report nothing rather than fail the scrape
            return
        yield from families

    @staticmethod
    def _feeds(session: Session) -> list[Metric]:
        silent = GaugeMetricFamily(
            "gateway_feed_silent",
            "1 while a member system's feed is silent during its opening hours.",
            labels=["system", "facility", "kind"],
        )
        age = GaugeMetricFamily(
            "gateway_feed_last_message_age_seconds",
            "Seconds since a member system's last message.",
            labels=["system", "facility", "kind"],
        )
        now = datetime.now(UTC)
        rows = session.execute(
            select(MemberSystem, FeedState)
            .join(FeedState, FeedState.system_id == MemberSystem.system_id)
            .where(MemberSystem.active.is_(True))
        )
        for system, state in rows:
            labels = [system.system_id, system.facility_id, system.kind]
            silent.add_metric(labels, 1.0 if state.silent_since is not None else 0.0)
            last = utc(state.last_message_at)
            if last is not None:
                age.add_metric(labels, max(0.0, (now - last).total_seconds()))
        return [silent, age]

    @staticmethod
    def _counts(session: Session) -> list[Metric]:
        messages = CounterMetricFamily(
            "gateway_feed_messages",
            "Messages from each member system, by outcome.",
            labels=["system", "outcome"],
        )
        totals = session.execute(
            select(
                FeedHour.system_id, func.sum(FeedHour.accepted), func.sum(FeedHour.refused)
            ).group_by(FeedHour.system_id)
        )
        for system_id, accepted, refused in totals:
            messages.add_metric([system_id, "accepted"], float(accepted or 0))
            messages.add_metric([system_id, "refused"], float(refused or 0))
        refusals = CounterMetricFamily(
            "gateway_feed_refusals",
            "Messages refused, by member system and reason.",
            labels=["system", "reason"],
        )
        for row in session.scalars(select(FeedRefusal)):
            refusals.add_metric([row.system_id, row.reason], float(row.count))
        return [messages, refusals]
