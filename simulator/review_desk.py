"""The review centre's pharmacist (审方药师): at each round, every prescription the rules
held is decided through the quality service's HTTP API — returned to the prescriber or
released with the rules' warnings noted. Which, is the knobs' reject shares: one for holds
of an antibiotic above the prescriber's or the facility's grade (by default all returned:
越级使用 needs the documented emergency the simulated HIS never sends), one for every other
hold (by default all released). Each prescription's lot is drawn from its own name and the
run's seed, never from the order the queue is read in, so a run decides the same however
fast the suite was or at which round a hold showed up. Without a quality service in the
suite there is nothing to decide."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from libs.platform.auth import Role
from simulator.acts import Knobs
from simulator.drivers import Api, ApiError
from simulator.run_result import RunResult

__all__ = ["ReviewDesk"]

#: Findings of an antibiotic above the prescriber's or the facility's grade.
ANTIBIOTIC_GRADE = ("antibiotic_",)


@dataclass
class ReviewDesk:
    quality: Api | None
    result: RunResult
    knobs: Knobs = field(default_factory=Knobs)
    seed: str = ""

    def play(self) -> None:
        """Decide every held prescription, oldest first."""
        if self.quality is None:
            return
        held = self.quality.all_items("/reviews", role=Role.PHARMACY_CENTRE, state="held")
        for review in held:
            self._decide(self.quality, review)

    def _decide(self, quality: Api, review: dict[str, Any]) -> None:
        rules = [str(f.get("rule", "")) for f in review.get("findings", [])]
        graded = any(rule.startswith(ANTIBIOTIC_GRADE) for rule in rules)
        path = f"/reviews/{review['facility_id']}/{review['prescription_id']}"
        share = (
            self.knobs.antibiotic_hold_reject_share
            if graded
            else self.knobs.other_hold_reject_share
        )
        release = self._lot(path) >= share
        why = "antibiotic grade not held: " if graded else "returned to the prescriber: "
        body = (
            {"note": "reviewed: " + ", ".join(sorted(set(rules)))}
            if release
            else {"reason": why + ", ".join(sorted(set(rules)))}
        )
        try:
            quality.post(
                f"{path}/{'release' if release else 'reject'}",
                role=Role.PHARMACY_CENTRE,
                json=body,
            )
        except ApiError as exc:
            if exc.status != 409:  # 409: decided meanwhile (another desk, a rerun)
                self.result.problems.append(f"review {review['prescription_id']}: {exc}")
            return
        self.result.counts[f"review:{'released' if release else 'rejected'}"] += 1

    def _lot(self, path: str) -> float:
        """A number in [0, 1) fixed by the prescription and the run's seed."""
        digest = hashlib.sha256(f"{self.seed}:{path}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2**64
