"""What one run of a plan did: counts, the ids it created, the problems it met and the faults
its clients waited out. The desks that play the plan write into it; the tests read it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = ["RunResult"]


@dataclass
class RunResult:
    counts: Counter[str] = field(default_factory=Counter)
    prescriptions: list[str] = field(default_factory=list)
    referrals: dict[str, str] = field(default_factory=dict)  # plan key -> referral id
    referral_steps: dict[str, list[str]] = field(default_factory=dict)  # id -> steps done
    sessions: dict[str, str] = field(default_factory=dict)  # plan key -> session id
    delivered: list[str] = field(default_factory=list)
    transfers_received: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    faults: Counter[str] = field(default_factory=Counter)  # waited out by the API clients
    started: datetime | None = None
    finished: datetime | None = None
    settled: bool = True

    def summary(self) -> dict[str, Any]:
        return {
            "counts": dict(sorted(self.counts.items())),
            "problems": len(self.problems),
            "settled": self.settled,
            "seconds": (self.finished - self.started).total_seconds()
            if self.started and self.finished
            else None,
        }
