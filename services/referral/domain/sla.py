"""Service levels per priority: how soon a referral must be decided and the patient arrive.

Deadlines are computed from event time (when the referral was requested, when it was
accepted), never from when a process happened to notice. The table is local policy, loaded
from ``infra/referral/sla.yaml``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from libs.events.catalogue.values import ReferralPriority

__all__ = ["PriorityTerms", "SlaPolicy", "Stage", "parse_duration", "parse_sla"]

_DURATION = re.compile(r"^(\d+)([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
_ROLE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


class Stage(StrEnum):
    """A step with a deadline; a referral breaches each stage at most once."""

    ACCEPTANCE = "acceptance"  # decided (accepted or declined) by accept_due_at
    ARRIVAL = "arrival"  # the patient arrived by arrive_due_at (counted from acceptance)


def parse_duration(text: str) -> timedelta:
    """``90s``, ``10m``, ``2h``, ``2d`` → a timedelta."""
    match = _DURATION.match(str(text).strip())
    if match is None:
        raise ValueError(f"a duration looks like 10m, 2h or 2d, not {text!r}")
    return timedelta(**{_UNITS[match[2]]: int(match[1])})


@dataclass(frozen=True)
class PriorityTerms:
    accept_within: timedelta
    expire_after: timedelta
    escalate_to: str
    arrive_within: timedelta | None = None


@dataclass(frozen=True)
class SlaPolicy:
    terms: Mapping[ReferralPriority, PriorityTerms]

    def of(self, priority: ReferralPriority) -> PriorityTerms:
        return self.terms[priority]

    def accept_due(self, priority: ReferralPriority, requested_at: datetime) -> datetime:
        return requested_at + self.terms[priority].accept_within

    def expire_at(self, priority: ReferralPriority, requested_at: datetime) -> datetime:
        return requested_at + self.terms[priority].expire_after

    def arrive_due(self, priority: ReferralPriority, accepted_at: datetime) -> datetime | None:
        within = self.terms[priority].arrive_within
        return accepted_at + within if within is not None else None


def parse_sla(doc: Mapping[str, Any]) -> SlaPolicy:
    """Validate the SLA document: every priority has terms, and a referral lapses only after
    its acceptance deadline (so a breach is always reported before expiry)."""
    default_role = str(doc.get("escalate_to", ""))
    priorities = doc.get("priorities") or {}
    terms: dict[ReferralPriority, PriorityTerms] = {}
    for priority in ReferralPriority:
        item = priorities.get(priority.value)
        if item is None:
            raise ValueError(f"the SLA table has no terms for priority {priority.value}")
        role = str(item.get("escalate_to", default_role))
        if not _ROLE.match(role):
            raise ValueError(f"{priority.value}: escalate_to must be a role code, not {role!r}")
        arrive = item.get("arrive_within")
        entry = PriorityTerms(
            accept_within=parse_duration(item["accept_within"]),
            expire_after=parse_duration(item["expire_after"]),
            escalate_to=role,
            arrive_within=parse_duration(arrive) if arrive is not None else None,
        )
        if entry.expire_after <= entry.accept_within:
            raise ValueError(f"{priority.value}: expire_after must be longer than accept_within")
        terms[priority] = entry
    unknown = set(priorities) - {p.value for p in ReferralPriority}
    if unknown:
        raise ValueError(f"unknown priorities in the SLA table: {sorted(unknown)}")
    return SlaPolicy(terms)
