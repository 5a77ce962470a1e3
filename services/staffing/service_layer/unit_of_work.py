"""The staffing unit of work: the outbox transaction plus the policy and the clock.

The policy (``infra/staffing/rules.yaml``) and the clock are bound once at start
(:meth:`StaffingUnitOfWork.bind`); tests bind a fixed clock to plan in a known week.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import ClassVar

from prometheus_client import Counter

from libs.events.envelope import utc_now
from libs.events.unit_of_work import UnitOfWork
from services.staffing.domain.policy import StaffingPolicy
from services.staffing.domain.rules import Violation
from services.staffing.service_layer.errors import RulesViolated

__all__ = ["StaffingUnitOfWork"]


class StaffingUnitOfWork(UnitOfWork):
    bound_policy: ClassVar[StaffingPolicy | None] = None
    bound_clock: ClassVar[Callable[[], datetime]] = staticmethod(utc_now)
    bound_refusals: ClassVar[Counter | None] = None

    @classmethod
    def bind(
        cls,
        policy: StaffingPolicy,
        *,
        clock: Callable[[], datetime] = utc_now,
        refusals: Counter | None = None,
    ) -> type[StaffingUnitOfWork]:
        """A unit-of-work class that plans by ``policy`` on ``clock``."""
        return type(
            "BoundStaffingUnitOfWork",
            (cls,),
            {
                "bound_policy": policy,
                "bound_clock": staticmethod(clock),
                "bound_refusals": refusals,
            },
        )

    @property
    def policy(self) -> StaffingPolicy:
        policy = type(self).bound_policy
        if policy is None:
            raise RuntimeError("no staffing policy bound: use StaffingUnitOfWork.bind(policy)")
        return policy

    def now(self) -> datetime:
        """The current instant (UTC)."""
        return type(self).bound_clock()

    def today(self) -> date:
        """Today on the county's clock."""
        return self.policy.local(self.now()).date()

    def refuse(self, violations: Iterable[Violation]) -> RulesViolated:
        """The refusal for ``violations``, counted by rule (raise what this returns)."""
        found = list(violations)
        counter = type(self).bound_refusals
        if counter is not None:
            for rule in {v.rule.value for v in found}:
                counter.labels(rule).inc()
        return RulesViolated(found)
