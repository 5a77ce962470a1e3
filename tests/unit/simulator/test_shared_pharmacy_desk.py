"""The simulated shared TCM pharmacy's staff: one step per open order and round, a share of
first deliveries failed and dispatched again, acting as the shared pharmacy's own staff."""

from __future__ import annotations

from typing import Any

import httpx

from libs.platform.auth import Role
from simulator.drivers import ApiError
from simulator.run_result import RunResult
from simulator.shared_pharmacy_desk import SharedPharmacyDesk

MOVES = {
    "decoction": "decocting",
    "dispatch": "dispatched",
    "delivery": "delivered",
    "delivery-failure": "delivery_failed",
}


class OrdersApi:
    """The quality service's orders as the desk sees them through its API client: each step
    moves the order as the service would."""

    def __init__(self, *orders: dict[str, Any]) -> None:
        self.orders = {o["order_id"]: o for o in orders}
        self.steps: list[str] = []

    def all_items(self, path: str, *, role: Role, **params: Any) -> list[Any]:
        assert path == "/herbal-orders"
        return [dict(o) for o in self.orders.values() if o["state"] == params["state"]]

    def post(self, path: str, *, role: Role, facility: str, json: Any) -> Any:
        assert (role, facility) == (Role.CLINIC_STAFF, "QS-H02")
        _, _, order_id, step = path.split("/")
        order = self.orders[order_id]
        if order["state"] == "delivery_failed" and order["attempts"] > 1:
            request = httpx.Request("POST", "http://quality" + path)
            raise ApiError(httpx.Response(409, json={"error": "no_retries_left"}, request=request))
        if step == "dispatch":
            order["attempts"] += 1
        order["state"] = MOVES[step]
        self.steps.append(f"{order_id}:{step}" + (f":{json['reason']}" if json else ""))
        return order


def order(order_id: str, *, decoct: bool = True) -> dict[str, Any]:
    return {"order_id": order_id, "state": "accepted", "decoct": decoct, "attempts": 0,
            "facility_id": "QS-T05", "prescription_id": f"RX-{order_id}",
            "pharmacy_facility_id": "QS-H02"}  # fmt: skip


def test_each_round_moves_every_order_one_step_until_delivered() -> None:
    api, result = OrdersApi(order("HO-1"), order("HO-2", decoct=False)), RunResult()
    desk = SharedPharmacyDesk(api, result, failure_share=0.0)  # type: ignore[arg-type]
    for _ in range(4):
        desk.play()
    assert api.steps == [
        "HO-1:decoction", "HO-2:dispatch",  # round 1
        "HO-2:delivery", "HO-1:dispatch",  # round 2
        "HO-1:delivery",  # round 3; round 4 has nothing left
    ]  # fmt: skip
    assert (result.counts["herbal:delivery"], result.problems) == (2, [])


def test_a_failed_first_delivery_is_dispatched_again_and_delivered() -> None:
    api, result = OrdersApi(order("HO-3")), RunResult()
    desk = SharedPharmacyDesk(api, result, failure_share=1.0)  # type: ignore[arg-type]
    for _ in range(5):
        desk.play()
    assert api.steps == [
        "HO-3:decoction", "HO-3:dispatch", "HO-3:delivery-failure:nobody_home",
        "HO-3:dispatch", "HO-3:delivery",
    ]  # fmt: skip
    SharedPharmacyDesk(None, result).play()  # no quality service: nothing to do
    assert not result.problems
