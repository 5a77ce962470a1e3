"""A service's refusal reaches the page in Chinese: a known error code in the county's words
(with the code for the help desk), an unknown one as its status's meaning and the service's
own words; every code the console names has its words."""

from __future__ import annotations

import httpx

from services.console.adapters.services import ServiceRefused, _detail
from services.console.domain.refusals import REFUSALS


def test_a_known_code_is_told_in_chinese() -> None:
    refused = ServiceRefused("administration", 422, "at most 10 points", "adjustment_too_large")
    assert refused.message == "输入有误：调整分值超出上限（administration：adjustment_too_large）"


def test_an_unknown_code_keeps_the_services_words() -> None:
    refused = ServiceRefused("staffing", 409, "something new happened", "brand_new_rule")
    assert refused.message == "当前状态不允许此操作（staffing：something new happened）"
    assert "服务暂不可用" in ServiceRefused("pharmacy", 503, "ConnectError").message


def test_the_code_is_read_from_the_one_error_shape() -> None:
    shaped = httpx.Response(409, json={"error": "period_closed", "message": "closed"})
    assert _detail(shaped) == ("closed", "period_closed")
    broken = {"error": "rule_violated", "message": "on leave", "details": {"rules": ["on_leave"]}}
    assert _detail(httpx.Response(409, json=broken)) == ("on leave", "on_leave")
    assert _detail(httpx.Response(502, text="<html>bad gateway</html>")) == (
        "<html>bad gateway</html>",
        None,
    )


def test_every_named_code_has_words() -> None:
    assert all(code.islower() and words.strip() for code, words in REFUSALS.items())
