"""An export takes a service's whole list, not the page on screen: ``CallsAs.every`` asks
for 500 at a time until the list's total (or the export's cap) is reached."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from services.console.adapters.services import CallsAs, ServiceDirectory

ITEMS = [{"n": n} for n in range(1234)]


def paged(asked: list[dict[str, Any]]) -> httpx.MockTransport:
    def answer(request: httpx.Request) -> httpx.Response:
        limit, offset = int(request.url.params["limit"]), int(request.url.params["offset"])
        asked.append(dict(request.url.params))
        page = ITEMS[offset : offset + limit]
        return httpx.Response(200, json={"items": page, "total": len(ITEMS), "limit": limit})

    return httpx.MockTransport(answer)


def calls(asked: list[dict[str, Any]]) -> CallsAs:
    client = httpx.Client(transport=paged(asked))
    urls = {"pharmacy": "http://pharmacy"}
    authority: Any = None  # the token is given: nothing is minted here
    return CallsAs(ServiceDirectory(urls, authority, timedelta(minutes=1), client), "token")


def test_every_item_is_gathered_500_at_a_time_with_the_query_kept() -> None:
    asked: list[dict[str, Any]] = []
    found = calls(asked).every("pharmacy", "/formulary/drugs", most=10_000, q="氨氯地平")
    assert found == ITEMS
    assert [a["offset"] for a in asked] == ["0", "500", "1000"]
    assert {a["q"] for a in asked} == {"氨氯地平"} and {a["limit"] for a in asked} == {"500"}


def test_an_export_stops_at_its_cap() -> None:
    asked: list[dict[str, Any]] = []
    assert len(calls(asked).every("pharmacy", "/formulary/drugs", most=600)) == 600
    assert len(asked) == 2
