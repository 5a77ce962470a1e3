"""The simulator's HTTP client through a service's crash: what it sends again, and how it
avoids doubling a POST whose answer was lost (the process killed after committing)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from libs.platform.auth import Role
from simulator.drivers import Api, ApiError, OutcomeUnknown


def _token(role: Role, facility: str | None, actor: str) -> str:
    return "t"


class Desk:
    """A fake service: POST /things creates a thing; ``script`` says what each request
    meets first ("refuse", "die_after_commit", "die_before_commit", a status code)."""

    def __init__(self, *script: Any) -> None:
        self.script = list(script)
        self.things: list[dict[str, Any]] = []
        self.posts = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        fate = self.script.pop(0) if self.script else None
        if fate == "refuse":
            raise httpx.ConnectError("connection refused", request=request)
        if request.method == "POST":
            self.posts += 1
            if fate == "die_before_commit":
                raise httpx.RemoteProtocolError("server disconnected", request=request)
            if isinstance(fate, int):
                return httpx.Response(fate, json={"error": "x"})
            self.things.append({"id": f"T{len(self.things) + 1}"})
            if fate == "die_after_commit":
                raise httpx.ReadError("connection reset by peer", request=request)
            return httpx.Response(201, json=self.things[-1])
        if isinstance(fate, int):
            return httpx.Response(fate, json={"error": "x"})
        return httpx.Response(200, json={"items": self.things})


def _api(desk: Desk) -> Api:
    return Api("http://desk", _token, patience_s=3.0, transport=httpx.MockTransport(desk))


def _find(api: Api) -> Callable[[], Any]:
    def confirm() -> Any:
        items = api.get("/things")["items"]
        return items[0] if items else None

    return confirm


def test_a_request_that_never_reached_the_service_is_sent_again() -> None:
    desk = Desk("refuse", "refuse")
    api = _api(desk)
    assert api.post("/things", role=Role.HR, json={}) == {"id": "T1"}
    assert (desk.posts, len(desk.things), api.faults["refused"]) == (1, 1, 2)


def test_a_lost_answer_to_a_post_that_took_effect_is_confirmed_not_repeated() -> None:
    desk = Desk("die_after_commit")
    api = _api(desk)
    assert api.post("/things", role=Role.HR, json={}, confirm=_find(api)) == {"id": "T1"}
    assert (desk.posts, len(desk.things), api.faults["confirmed"]) == (1, 1, 1)


def test_a_lost_answer_to_a_post_that_did_not_take_effect_is_sent_again() -> None:
    desk = Desk("die_before_commit")
    api = _api(desk)
    assert api.post("/things", role=Role.HR, json={}, confirm=_find(api)) == {"id": "T1"}
    assert (desk.posts, len(desk.things)) == (2, 1)


def test_a_lost_answer_without_a_way_to_confirm_is_not_risked() -> None:
    desk = Desk("die_after_commit")
    with pytest.raises(OutcomeUnknown):
        _api(desk).post("/things", role=Role.HR, json={})
    assert desk.posts == 1


def test_a_refusal_after_a_lost_answer_is_checked_against_the_state() -> None:
    """A transition whose first attempt was applied: the resend is refused (409), and the
    state shows the step was done, so it is a success."""
    desk = Desk("die_before_commit", 409)
    api = _api(desk)
    looks: list[int] = []

    def confirm() -> Any:
        looks.append(1)
        return {"state": "accepted"} if len(looks) > 1 else None

    assert api.post("/things/T1/accept", role=Role.HR, confirm=confirm) == {"state": "accepted"}
    assert desk.posts == 2


def test_unavailable_is_waited_out_but_a_server_error_on_a_post_is_not_repeated() -> None:
    desk = Desk(503, 502)
    api = _api(desk)
    assert api.post("/things", role=Role.HR, json={}) == {"id": "T1"}
    assert desk.posts == 3
    broken = Desk(500)
    with pytest.raises(ApiError):
        _api(broken).post("/things", role=Role.HR, json={})
    assert broken.posts == 1
    reading = Desk(500)
    assert _api(reading).get("/things") == {"items": []}  # a GET may be repeated


def test_an_unreachable_service_gives_up_after_the_patience() -> None:
    desk = Desk(*["refuse"] * 100)
    with pytest.raises(TimeoutError):
        _api(desk).get("/things")
