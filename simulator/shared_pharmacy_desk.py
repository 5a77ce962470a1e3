"""The shared TCM pharmacy's staff (共享中药房): at each round, every open order moves one step
through the quality service's HTTP API — an accepted order is decocted (or, pieces only,
dispatched), a decocting one dispatched, a dispatched one delivered, or, for a share of first
deliveries (``failure_share``), not delivered (nobody home) and dispatched again at the next
round. The staff act as clinic staff of the shared pharmacy's own facility (the TCM hospital),
the role the API admits besides the central pharmacy. Each order's lot is drawn from its
prescription and the run's seed, never from the order the queue is read in, so a run decides
the same however fast the suite was. Without a quality service in the suite there is nothing
to do."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from libs.platform.auth import Role
from simulator.drivers import Api, ApiError
from simulator.run_result import RunResult

__all__ = ["SharedPharmacyDesk"]

#: An order's state → the step the staff take next.
NEXT_STEP = {"decocting": "dispatch", "delivery_failed": "dispatch"}
FAILURE_REASON = "nobody_home"


@dataclass
class SharedPharmacyDesk:
    quality: Api | None
    result: RunResult
    seed: str = ""
    failure_share: float = 0.1
    """The share of first deliveries that fail (the patient was not home)."""

    def play(self) -> None:
        """Move every open order one step, oldest first."""
        if self.quality is None:
            return
        for state in ("dispatched", "delivery_failed", "decocting", "accepted"):
            for order in self.quality.all_items("/herbal-orders", role=Role.PHARMACY_CENTRE,
                                                state=state):  # fmt: skip
                self._step(self.quality, order)

    def _step(self, quality: Api, order: dict[str, Any]) -> None:
        step, body = self._next(order), None
        if step == "delivery-failure":
            body = {"reason": FAILURE_REASON}
        path = f"/herbal-orders/{order['order_id']}/{step}"
        try:
            quality.post(path, role=Role.CLINIC_STAFF, facility=order["pharmacy_facility_id"],
                         json=body)  # fmt: skip
        except ApiError as exc:
            if exc.status != 409:  # 409: moved meanwhile (another desk, a rerun), or no retry left
                self.result.problems.append(f"shared pharmacy {order['order_id']}: {exc}")
            return
        self.result.counts[f"herbal:{step}"] += 1

    def _next(self, order: dict[str, Any]) -> str:
        state = str(order["state"])
        if state == "accepted":
            return "decoction" if order.get("decoct", True) else "dispatch"
        if state == "dispatched":
            first = int(order.get("attempts", 1)) <= 1
            prescription = f"{order['facility_id']}/{order['prescription_id']}"
            fails = first and self._lot(prescription) < self.failure_share
            return "delivery-failure" if fails else "delivery"
        return NEXT_STEP[state]

    def _lot(self, prescription: str) -> float:
        """A number in [0, 1) fixed by the order's prescription and the run's seed (not by
        the order id, which quality draws at random: runs of one plan must decide alike)."""
        digest = hashlib.sha256(f"{self.seed}:{prescription}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2**64
