"""The console's metrics, read from its database at scrape time: accounts per role and
state, sessions alive, and sign-in attempts per outcome over the last hour (a burst of
refusals is someone guessing)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from services.console.adapters.schema import AccountRow, SessionRow, SignInAttempt

__all__ = ["ConsoleCollector"]


class ConsoleCollector(Collector):
    """``console_accounts``, ``console_sessions_open`` and ``console_sign_ins_last_hour``."""

    def __init__(self, sessions: sessionmaker[Session], idle: timedelta) -> None:
        self._sessions, self._idle = sessions, idle

    def collect(self) -> Iterator[Metric]:
        try:
            with self._sessions() as session:
                families = self._families(session, datetime.now(UTC))
        except Exception:  # the database is down: report nothing rather than fail the scrape
            return
        yield from families

    def _families(self, session: Session, now: datetime) -> list[Metric]:
        accounts = GaugeMetricFamily(
            "console_accounts", "Console accounts per role and state.", labels=["role", "active"]
        )
        query = select(AccountRow.role, AccountRow.active, func.count()).group_by(
            AccountRow.role, AccountRow.active
        )
        for role, active, count in session.execute(query):
            accounts.add_metric([role, "true" if active else "false"], float(count))
        open_sessions = GaugeMetricFamily(
            "console_sessions_open", "Sessions used within the idle limit and not signed out."
        )
        alive = (
            select(func.count())
            .select_from(SessionRow)
            .where(SessionRow.ended_at.is_(None), SessionRow.last_seen_at >= now - self._idle)
        )
        open_sessions.add_metric([], float(session.scalar(alive) or 0))
        attempts = GaugeMetricFamily(
            "console_sign_ins_last_hour",
            "Sign-in attempts in the last hour per outcome.",
            labels=["outcome"],
        )
        recent = (
            select(SignInAttempt.outcome, func.count())
            .where(SignInAttempt.at >= now - timedelta(hours=1))
            .group_by(SignInAttempt.outcome)
        )
        counted = dict(session.execute(recent).tuples().all())
        for outcome in ("signed_in", "refused", "locked", "disabled"):
            attempts.add_metric([outcome], float(counted.get(outcome, 0)))
        return [accounts, open_sessions, attempts]
