"""The simulated review-centre pharmacist: which holds it releases and which it returns."""

from __future__ import annotations

from typing import Any

import httpx

from libs.platform.auth import Role
from simulator.drivers import ApiError
from simulator.review_desk import ReviewDesk
from simulator.run_result import RunResult


class QueueApi:
    """The quality service's queue as the desk sees it through its API client."""

    def __init__(self, held: list[dict[str, Any]], conflict: frozenset[str] = frozenset()) -> None:
        self.held, self.conflict = held, conflict
        self.decisions: list[tuple[str, dict[str, Any]]] = []

    def all_items(self, path: str, *, role: Role, **params: Any) -> list[Any]:
        assert (path, role, params) == ("/reviews", Role.PHARMACY_CENTRE, {"state": "held"})
        return self.held

    def post(self, path: str, *, role: Role, json: dict[str, Any]) -> Any:
        assert role is Role.PHARMACY_CENTRE
        if any(rx in path for rx in self.conflict):
            request = httpx.Request("POST", "http://quality" + path)
            raise ApiError(httpx.Response(409, json={"error": "not_held"}, request=request))
        self.decisions.append((path, json))
        return {}


def held(rx: str, *rules: str) -> dict[str, Any]:
    return {"facility_id": "QS-T01", "prescription_id": rx,
            "findings": [{"rule": r, "severity": "hold"} for r in rules]}  # fmt: skip


def test_antibiotics_above_the_grade_are_returned_and_the_rest_released() -> None:
    api = QueueApi([held("RX-1", "dose_limit"), held("RX-2", "antibiotic_privilege", "dose_limit")])
    result = RunResult()
    ReviewDesk(api, result).play()  # type: ignore[arg-type]
    assert [path for path, _ in api.decisions] == [
        "/reviews/QS-T01/RX-1/release",
        "/reviews/QS-T01/RX-2/reject",
    ]
    assert "reason" in api.decisions[1][1]
    assert (result.counts["review:released"], result.counts["review:rejected"]) == (1, 1)


def test_a_hold_decided_meanwhile_is_no_problem_and_no_quality_service_is_nothing() -> None:
    api = QueueApi([held("RX-3", "interaction")], conflict=frozenset({"RX-3"}))
    result = RunResult()
    ReviewDesk(api, result).play()  # type: ignore[arg-type]
    assert not result.problems and not result.counts
    ReviewDesk(None, result).play()
    assert not result.counts
