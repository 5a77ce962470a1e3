"""A page's GET form sends every field, empty ones too (全县 chosen, no period typed): an
empty field is "not given", never a 422; a filled one is still checked."""

from __future__ import annotations

from typing import Annotated

from fastapi import FastAPI, Query
from fastapi.testclient import TestClient

from services.console.api.deps import FacilityQuery, MonthQuery, PeriodQuery

app = FastAPI()


@app.get("/")
def page(
    facility_id: FacilityQuery = None,
    start: Annotated[PeriodQuery, Query(alias="from")] = None,
    period: MonthQuery = None,
) -> dict[str, str | None]:
    return {"facility_id": facility_id, "from": start, "period": period}


def test_empty_fields_are_not_given() -> None:
    answer = TestClient(app).get("/?facility_id=&from=&period=")
    assert answer.status_code == 200
    assert answer.json() == {"facility_id": None, "from": None, "period": None}


def test_filled_fields_are_still_checked() -> None:
    client = TestClient(app)
    chosen = client.get("/?facility_id=QS-T01&from=2026-11-02&period=2026-11")
    assert chosen.json() == {"facility_id": "QS-T01", "from": "2026-11-02", "period": "2026-11"}
    assert client.get("/?facility_id=QS T01").status_code == 422
    assert client.get("/?from=2026-13-99x").status_code == 422
    assert client.get("/?period=2026-11-02").status_code == 422  # an accounting period is a month
