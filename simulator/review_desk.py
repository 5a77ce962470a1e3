"""The review centre's pharmacist (审方药师): at each round, every prescription the rules
held is decided through the quality service's HTTP API — antibiotics above the prescriber's
or the facility's grade returned to the prescriber, the rest released with the rules'
warnings noted. Without a quality service in the suite there is nothing to decide."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from libs.platform.auth import Role
from simulator.drivers import Api, ApiError
from simulator.run_result import RunResult

__all__ = ["ReviewDesk"]

#: Findings a review pharmacist does not release: a grade the prescriber or facility does
#: not hold (越级使用 needs the documented emergency the simulated HIS never sends).
NOT_RELEASED = ("antibiotic_",)


@dataclass
class ReviewDesk:
    quality: Api | None
    result: RunResult

    def play(self) -> None:
        """Decide every held prescription, oldest first."""
        if self.quality is None:
            return
        held = self.quality.all_items("/reviews", role=Role.PHARMACY_CENTRE, state="held")
        for review in held:
            self._decide(self.quality, review)

    def _decide(self, quality: Api, review: dict[str, Any]) -> None:
        rules = [str(f.get("rule", "")) for f in review.get("findings", [])]
        release = not any(rule.startswith(NOT_RELEASED) for rule in rules)
        path = f"/reviews/{review['facility_id']}/{review['prescription_id']}"
        body = (
            {"note": "reviewed: " + ", ".join(sorted(set(rules)))}
            if release
            else {"reason": "antibiotic grade not held: " + ", ".join(sorted(set(rules)))}
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
