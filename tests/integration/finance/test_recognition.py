"""Result recognition (检查检验结果互认) in the books: the avoided cost of a repeat test in the
ordering member's memorandum accounts, once, to the cent; in the journal, the trial balances
and the metrics, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from libs.events.catalogue.quality import ResultRecognised
from libs.platform.auth import Role
from libs.platform.worker import ServiceProcess
from tests.support.apps import holding_the_county, in_process, organisation_events
from tests.support.databases import database_url
from tests.support.finance import balance, totals_by_book, uid
from tests.support.harness import HandlerHarness, event_of

SAVING = "recognition_saving"


@pytest.fixture(scope="module")
def seed(tmp_path_factory: pytest.TempPathFactory) -> list[Any]:
    return organisation_events(tmp_path_factory.mktemp("seed"))


@pytest.fixture
def finance_app(
    db_kind: str, tmp_path: Path, seed: list[Any]
) -> Iterator[tuple[ServiceProcess, HandlerHarness, TestClient]]:
    with database_url(db_kind, tmp_path, "finance") as url:
        process = in_process("finance", url, tmp_path / "data")
        harness = holding_the_county(process, seed)
        with TestClient(process.admin_app()) as client:
            yield process, harness, client
        harness.close()
        process.database.dispose()


def recognised(facility_id: str, order_id: str, cost: str) -> ResultRecognised:
    return ResultRecognised(
        order_id=order_id,
        facility_id=facility_id,
        test_code="IMG-CT-HEAD",
        earlier_result_id=uid("RES"),
        earlier_facility_id="QS-H01",
        earlier_reported_at=datetime(2026, 5, 2, 3, tzinfo=UTC),
        window_days=30,
        avoided_cost=Decimal(cost),
        decided_at=datetime(2026, 5, 20, 3, tzinfo=UTC),
    )


def money(value: Any) -> Decimal:
    """An amount as the API serialises it (a decimal string or a JSON number)."""
    return Decimal(str(value))


def as_finance_centre(process: ServiceProcess) -> dict[str, str]:
    token = process.token_authority.mint(subject="FC-001", role=Role.FINANCE_CENTRE)
    return {"Authorization": f"Bearer {token}"}


def test_a_recognised_result_is_booked_once_to_the_cent_in_the_ordering_members_memoranda(
    finance_app: tuple[ServiceProcess, HandlerHarness, TestClient],
) -> None:
    process, finance, client = finance_app
    saving = recognised("QS-T01", uid("ORD"), "318.45")
    first = event_of(saving)
    result = finance.apply(first, first)  # redelivered under the same event id
    resent = finance.apply(event_of(saving))  # sent again under a new event id
    other = finance.apply(event_of(recognised("QS-T02", uid("ORD"), "0.15")))
    assert not (result.dead_lettered or resent.dead_lettered or other.dead_lettered)

    assert balance(finance, "9001", facility_id="QS-T01") == Decimal("318.45")
    assert balance(finance, "9002", facility_id="QS-T01") == Decimal("-318.45")
    assert balance(finance, "9001") == Decimal("318.60")
    assert set(totals_by_book(finance).values()) == {Decimal(0)}
    announced = finance.published("finance.journal_entry.posted.v1")
    posted = [e.data for e in announced if e.data.entry_type == SAVING]
    assert [(e.period, len(e.lines)) for e in posted] == [("2026-05", 2), ("2026-05", 2)]

    headers = as_finance_centre(process)
    journal = client.get(
        "/ledger/journal", params={"entry_type": SAVING, "facility_id": "QS-T01"}, headers=headers
    ).json()
    (entry,) = journal["items"]
    booked = [
        (ln["account_code"], money(ln["debit"]), money(ln["credit"])) for ln in entry["lines"]
    ]
    assert booked == [
        ("9001", Decimal("318.45"), 0),
        ("9002", 0, Decimal("318.45")),
    ]
    county = client.get("/ledger/trial-balance", headers=headers).json()
    memoranda = {
        a["account_code"]: money(a["balance"])
        for a in county["accounts"]
        if a["account_type"] == "memorandum"
    }
    assert memoranda == {
        "9001": Decimal("318.60"),
        "9002": Decimal("-318.60"),
    }
    assert money(county["difference"]) == 0

    metrics = client.get("/metrics").text
    assert 'finance_recognition_savings{community="QS-MC1"} 318.6' in metrics


def test_a_recognition_at_an_unknown_facility_is_dead_lettered(
    finance_app: tuple[ServiceProcess, HandlerHarness, TestClient],
) -> None:
    _, finance, _ = finance_app
    result = finance.apply(event_of(recognised("QS-NOPE", uid("ORD"), "50.00")))
    assert [reason for _, reason in result.dead_lettered] == ["unknown_facility"]
    assert balance(finance, "9001") == 0
