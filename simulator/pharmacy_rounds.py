"""The pharmacist's rounds: transfers between the county's pharmacies approved (or cut to
what the sender can offer, or rejected), shipped, and received a round later, as stock in
transit would be, through the pharmacy service's HTTP API."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Any

from libs.platform.auth import Role
from simulator.drivers import Api, ApiError
from simulator.run_result import RunResult

__all__ = ["TRANSFER_AFTER", "PharmacyRounds"]

#: The states a transfer can be in once a step was applied (the simulator plays each one's
#: steps in order, so a later state means the step was done).
TRANSFER_AFTER = {
    "approve": frozenset({"approved", "shipped", "received"}),
    "ship": frozenset({"shipped", "received"}),
    "receive": frozenset({"received"}),
    "cancel": frozenset({"cancelled"}),
    "reject": frozenset({"rejected"}),
}


@dataclass
class PharmacyRounds:
    """Plays the rounds in order; what was shipped in one round is received in the next."""

    pharmacy: Api
    result: RunResult
    _shipped_before: set[str] = field(default_factory=set)

    def play(self, *, final: bool) -> None:
        """Receive what was shipped in an earlier round (in transit until now), then approve
        and ship what was asked for; at the end of the period, receive everything."""
        if not final:
            self._receive(only=self._shipped_before)
        requested = self.pharmacy.all_items(
            "/transfers", role=Role.PHARMACY_CENTRE, state="requested"
        )
        shipped_now: set[str] = set()
        for transfer in sorted(requested, key=lambda t: (t["to_facility_id"], t["transfer_id"])):
            if self._approve(transfer) and self._ship(transfer):
                shipped_now.add(transfer["transfer_id"])
        self._shipped_before = shipped_now
        if final:
            self._receive(only=None)

    def _ship(self, transfer: dict[str, Any]) -> bool:
        """Ship an approved transfer; one the sender no longer has the stock for (spent
        since the approval) is cancelled. True if shipped."""
        pharmacy, tid = self.pharmacy, transfer["transfer_id"]
        try:
            pharmacy.post(
                f"/transfers/{tid}/ship",
                role=Role.CLINIC_STAFF,
                facility=transfer["from_facility_id"],
                actor="store",
                json={},
                confirm=partial(self._transfer_in, tid, TRANSFER_AFTER["ship"]),
            )
            self.result.counts["transfers_shipped"] += 1
            return True
        except ApiError as exc:
            if exc.code == "insufficient_stock":
                self._for_want_of_stock(tid, "cancel")
                self.result.counts["transfers_cancelled"] += 1
            else:
                self.result.problems.append(f"ship {tid}: {exc}")
            return False

    def _for_want_of_stock(self, transfer_id: str, step: str) -> None:
        """Cancel (once approved) or reject (before) a transfer the sender cannot fill."""
        self.pharmacy.post(
            f"/transfers/{transfer_id}/{step}",
            role=Role.PHARMACY_CENTRE,
            json={"reason": "insufficient_stock"},
            confirm=partial(self._transfer_in, transfer_id, TRANSFER_AFTER[step]),
        )

    def _transfer_in(self, transfer_id: str, states: frozenset[str]) -> Any:
        """Whether a step whose answer was lost took effect (see ``drivers.Api``)."""
        found = self.pharmacy.get(f"/transfers/{transfer_id}", role=Role.PHARMACY_CENTRE)
        return found if found["state"] in states else None

    def _approve(self, transfer: dict[str, Any]) -> bool:
        """Approve as requested or, when the sender lacks some of it, what it can offer; a
        request it can offer nothing of is rejected. True if approved."""
        pharmacy, tid = self.pharmacy, transfer["transfer_id"]
        body: dict[str, Any] = {}
        for attempt in ("as requested", "what is on offer"):
            try:
                pharmacy.post(
                    f"/transfers/{tid}/approve",
                    role=Role.PHARMACY_CENTRE,
                    json=body,
                    actor="approver",
                    confirm=partial(self._transfer_in, tid, TRANSFER_AFTER["approve"]),
                )
                self.result.counts["transfers_approved"] += 1
                return True
            except ApiError as exc:
                on_offer = (exc.body.get("details") or {}).get("available")
                if exc.code != "insufficient_stock" or attempt != "as requested" or not on_offer:
                    self.result.problems.append(f"approve {tid}: {exc}")
                    return False
                lines = [{"drug_code": d, "quantity": q} for d, q in sorted(on_offer.items())]
                if all(q == 0 for q in on_offer.values()) and len(on_offer) == len(
                    transfer["lines"]
                ):
                    break
                body = {"lines": lines}
        try:
            self._for_want_of_stock(tid, "reject")
            self.result.counts["transfers_rejected"] += 1
        except ApiError as exc:
            self.result.problems.append(f"reject {tid}: {exc}")
        return False

    def _receive(self, only: set[str] | None) -> None:
        pharmacy = self.pharmacy
        shipped = pharmacy.all_items("/transfers", role=Role.PHARMACY_CENTRE, state="shipped")
        for transfer in sorted(shipped, key=lambda t: t["transfer_id"]):
            tid = transfer["transfer_id"]
            if only is not None and tid not in only:
                continue
            try:
                pharmacy.post(
                    f"/transfers/{tid}/receive",
                    role=Role.CLINIC_STAFF,
                    facility=transfer["to_facility_id"],
                    actor="store",
                    confirm=partial(self._transfer_in, tid, TRANSFER_AFTER["receive"]),
                )
                self.result.counts["transfers_received"] += 1
                self.result.transfers_received.append(tid)
            except ApiError as exc:
                self.result.problems.append(f"receive {tid}: {exc}")
