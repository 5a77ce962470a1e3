"""The staffing unit of work: the outbox transaction plus the policy and the county's clock.

The policy (``infra/staffing/rules.yaml``) and the clock are given once at start (the
composition root's ``partial(StaffingUnitOfWork, policy=..., clock=...)``); tests give a
clock with a fixed ``now`` to plan in a known week.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime

from prometheus_client import Counter
from sqlalchemy.orm import Session

from libs.events.outbox import OutboxSignal
from libs.events.unit_of_work import UnitOfWork
from libs.platform.clock import CountyClock
from services.staffing.adapters.repository import SqlWorkforce, Workforce
from services.staffing.domain.policy import StaffingPolicy
from services.staffing.domain.rules import Violation
from services.staffing.service_layer.errors import RulesViolated

__all__ = ["StaffingUnitOfWork"]


class StaffingUnitOfWork(UnitOfWork):
    def __init__(
        self,
        session_factory: Callable[[], Session],
        *,
        source: str,
        signal: OutboxSignal | None = None,
        policy: StaffingPolicy,
        clock: CountyClock,
        refusals: Counter | None = None,
    ) -> None:
        super().__init__(session_factory, source=source, signal=signal)
        self.policy = policy
        self.clock = clock
        self.refusals = refusals

    @property
    def workforce(self) -> Workforce:
        """The staffing records of this transaction (a fake stands in for unit tests)."""
        return SqlWorkforce(self.session)

    def now(self) -> datetime:
        """The current instant (UTC)."""
        return self.clock.now()

    def today(self) -> date:
        """Today on the county's clock."""
        return self.clock.today()

    def refuse(self, violations: Iterable[Violation]) -> RulesViolated:
        """The refusal for ``violations``, counted by rule (raise what this returns)."""
        found = list(violations)
        counter = self.refusals
        if counter is not None:
            for rule in {v.rule.value for v in found}:
                counter.labels(rule).inc()
        return RulesViolated(found)
