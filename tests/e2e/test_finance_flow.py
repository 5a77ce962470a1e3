"""The finance service as a real process: events from the real broker, its real database,
its admin API over HTTP. One finance process per kind of database serves the whole module;
scenarios use their own ids and periods.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from libs.events import CloudEvent, Payload, decode, encode
from libs.events.catalogue.organisation import FacilityRegistered
from libs.events.catalogue.pharmacy import ReceiptSource, StockReceived
from libs.events.catalogue.values import FacilityTier, FacilityType
from libs.events.envelope import utc_now
from libs.platform.auth import Role
from tests.conftest import Suite
from tests.support import finance as f
from tests.support.harness import event_of
from tests.support.kafka import produce, read_all, wait_for
from tests.support.services import ServiceHandle

SEED_FACILITIES = 23


def payloads(bootstrap: str, topic: str) -> list[Any]:
    """The payload of every event on ``topic``."""
    return [decode(r.value).data for r in read_all(bootstrap, topic) if r.value]


def send(bootstrap: str, *events: CloudEvent[Payload], copies: int = 1) -> None:
    """Produce each event (``copies`` times: a redelivery) on its topic, keyed as its
    producer keys it."""
    for event in events:
        produce(bootstrap, event.topic, [encode(event)] * copies, key=event.key.encode())


@pytest.fixture(scope="module")
def finance(module_suite: Suite) -> ServiceHandle:
    service = module_suite.start("finance")["finance"]
    send(module_suite.bootstrap, *f.organisation_events())
    wait_for(
        lambda: len(service.get_json("/directory/facilities")) == SEED_FACILITIES,
        what="finance's copy of the seed county",
    )
    return service


def journal(service: ServiceHandle, **params: Any) -> dict[str, Any]:
    with service.client(Role.FINANCE_CENTRE) as client:
        response = client.get("/ledger/journal", params=params)
    response.raise_for_status()
    return response.json()


def test_visits_and_a_transfer_from_the_broker_are_posted_once(
    finance: ServiceHandle, module_suite: Suite
) -> None:
    primary = event_of(f.visit("QS-T01", eligible="200.00", total="230.00"))
    tertiary = event_of(
        f.visit("QS-H01", eligible="200.00", total="230.00", tier=f.FacilityTier.TERTIARY)
    )
    moved = event_of(f.transfer("QS-H01", "QS-T04", packs=10, unit_price="12.3456"))
    before = finance.metric("finance_budget_consumed", community="QS-MC1", year="2026")
    send(module_suite.bootstrap, primary, tertiary, moved, copies=2)  # each delivered twice

    def duplicates(topic: str, type_name: str) -> float:
        return finance.metric(
            "finance_events_consumed_total", topic=topic, type=type_name, outcome="duplicate"
        )

    # Every copy was consumed: the second ones were recognised as redeliveries.
    wait_for(
        lambda: (
            duplicates("ingestion.visit", "ingestion.visit.recorded.v1") >= 2
            and duplicates("pharmacy.transfer", "pharmacy.transfer.received.v1") >= 1
        ),
        what="both copies of every event consumed",
    )
    ours = {primary.data.visit_id, tertiary.data.visit_id}

    def valued() -> list[Any] | None:
        found = [p for p in payloads(module_suite.bootstrap, "finance.claim") if p.visit_id in ours]
        return found if {p.visit_id for p in found} == ours else None

    claims = wait_for(valued, what="the visits valued")
    assert len(claims) == 2  # each valued once
    assert sorted(c.fund_payout for c in claims) == [Decimal("160.00"), Decimal("180.00")]
    wait_for(
        lambda: (
            finance.metric("finance_budget_consumed", community="QS-MC1", year="2026")
            == before + 340
        ),
        what="the bundle's consumption",
    )
    assert journal(finance, causation_event_id=moved.id)["total"] == 1
    (entry,) = journal(finance, causation_event_id=moved.id)["items"]
    assert entry["entry_type"] == "transfer_settlement"
    assert {
        (ln["facility_id"], ln["account_code"], ln["debit"], ln["credit"]) for ln in entry["lines"]
    } == {
        ("QS-T04", "1302", "123.46", "0.00"),
        ("QS-T04", "2306", "0.00", "123.46"),
        ("QS-H01", "1216", "123.46", "0.00"),
        ("QS-H01", "1302", "0.00", "123.46"),
    }
    with finance.client(Role.COUNTY_ADMIN) as client:
        county = client.get("/ledger/trial-balance").json()
        member = client.get("/ledger/trial-balance", params={"facility_id": "QS-T01"}).json()
        budget = client.get("/budgets/BUD-QS-MC1-2026").json()
    assert county["difference"] == "0.00"
    assert Decimal(county["total_debit"]) > 0
    assert member["difference"] == "0.00"
    assert Decimal(budget["consumed"]) >= Decimal("340.00")
    assert "projected_consumption" in budget["forecast"]
    assert finance.metric("finance_postings_total", entry_type="visit_claim") >= 2


def test_the_admin_api_refuses_what_it_must(finance: ServiceHandle) -> None:
    entry: dict[str, Any] = {
        "memo": "opening bank balance",
        "period": "2026-01",
        "lines": [
            {"account_code": "1002", "facility_id": "QS-T07", "debit": "100.00"},
            {"account_code": "3001", "facility_id": "QS-T07", "credit": "100.00"},
        ],
    }
    assert httpx.get(f"{finance.url}/ledger/journal").status_code == 401
    with finance.client(Role.CLINIC_STAFF, "QS-T07") as clinic:
        assert clinic.post("/ledger/journal", json=entry).status_code == 403
        assert (
            clinic.get("/ledger/trial-balance", params={"facility_id": "QS-T01"}).status_code == 403
        )
        assert clinic.get("/ledger/trial-balance").status_code == 200  # its own books
        assert clinic.get("/budgets").status_code == 403
    with finance.client(Role.FINANCE_CENTRE) as centre:
        unbalanced = {
            **entry,
            "lines": [entry["lines"][0], {**entry["lines"][1], "credit": "99.99"}],
        }
        refused = centre.post("/ledger/journal", json=unbalanced)
        assert (refused.status_code, refused.json()["error"]) == (422, "unbalanced")
        unknown = {
            **entry,
            "lines": [{**entry["lines"][0], "account_code": "9999"}, entry["lines"][1]],
        }
        refused = centre.post("/ledger/journal", json=unknown)
        assert (refused.status_code, refused.json()["error"]) == (422, "unknown_account")
        assert centre.post("/periods/2026-13/close").status_code == 422
        assert centre.post("/periods/2099-01/close").json()["error"] == "period_not_ended"

        posted = centre.post("/ledger/journal", json=entry)
        assert posted.status_code == 201, posted.text
        closed = centre.post("/periods/2026-01/close")
        assert closed.status_code == 200, closed.text
        assert centre.post("/periods/2026-01/close").status_code == 409
        refused = centre.post("/ledger/journal", json=entry)
        assert (refused.status_code, refused.json()["error"]) == (409, "period_closed")

        entry_id = posted.json()["entry_id"]
        reversal = centre.post(f"/ledger/journal/{entry_id}/reversal", json={"memo": "oops"})
        assert reversal.status_code == 201, reversal.text
        assert reversal.json()["period"] != "2026-01"  # the closed period stays as reported
        assert (
            centre.post(f"/ledger/journal/{entry_id}/reversal", json={"memo": "x"}).status_code
            == 409
        )
        assert (
            centre.post("/ledger/journal/JE-nope/reversal", json={"memo": "x"}).status_code == 404
        )
        book = centre.get(
            "/ledger/balances", params={"facility_id": "QS-T07", "account_code": "1002"}
        ).json()
        assert [b["balance"] for b in book] == ["0.00"]


def test_a_period_close_allocates_the_performance_fund_to_the_cent(
    finance: ServiceHandle, module_suite: Suite
) -> None:
    day = f.date(2026, 2, 10)
    sessions = [
        event_of(
            f.session(staff, home="QS-H01", at="QS-T02", patients=4, home_visits=0, day=day),
            source="/services/staffing",
        )
        for staff in ("S-E2E-A", "S-E2E-B", "S-E2E-C")
    ]
    send(module_suite.bootstrap, *sessions)
    wait_for(
        lambda: journal(finance, entry_type="session_fee", period="2026-02")["total"] == 3,
        what="the sessions posted",
    )
    with finance.client(Role.FINANCE_CENTRE) as centre:
        closed = centre.post(
            "/periods/2026-02/close", json={"special_funds": {"QS-MC1": "100000.01"}}
        )
    assert closed.status_code == 200, closed.text
    (pay,) = [p for p in closed.json()["performance_pay"] if p["community_id"] == "QS-MC1"]
    assert pay["fund_amount"] == "34000.00"  # 34% of 100,000.01, to the cent
    amounts = sorted(Decimal(a["amount"]) for a in pay["allocations"])
    assert sum(amounts) == Decimal("34000.00")
    assert amounts == [Decimal("11333.33"), Decimal("11333.33"), Decimal("11333.34")]
    announced = wait_for(
        lambda: [
            p
            for p in payloads(module_suite.bootstrap, "finance.performance_pay")
            if p.allocation_id == pay["allocation_id"]
        ],
        what="the allocation on the broker",
    )
    assert sum(a.amount for a in announced[0].allocations) == Decimal("34000.00")


def test_a_receipt_at_a_facility_not_yet_known_waits_alone_and_is_posted_once_known(
    finance: ServiceHandle, module_suite: Suite
) -> None:
    """Pharmacy's receipt at a new member overtakes the member's registration: finance parks
    it (and only its facility's events) instead of holding the partition, and posts it the
    moment the registration arrives."""
    newcomer, known = "QS-T99", "QS-T03"
    early = event_of(receipt(newcomer, "RCV-E2E-EARLY"))
    other = event_of(receipt(known, "RCV-E2E-OTHER"))
    send(module_suite.bootstrap, early, other)

    def posted(receipt_id: str) -> bool:
        entries = journal(finance, entry_type="stock_receipt", limit=200)["items"]
        return any(receipt_id in (entry.get("memo") or "") for entry in entries)

    wait_for(lambda: posted("RCV-E2E-OTHER"), what="the other facility's receipt", timeout_s=30)
    parked = finance.metric(
        "finance_events_consumed_total",
        topic="pharmacy.stock",
        type="pharmacy.stock.received.v1",
        outcome="parked",
    )
    assert parked == 1 and not posted("RCV-E2E-EARLY")

    registration = FacilityRegistered(
        facility_id=newcomer,
        name="新建卫生院",
        community_id="QS-MC1",
        county_code="QS",
        tier=FacilityTier.PRIMARY,
        facility_type=FacilityType.TOWNSHIP_CENTRE,
    )
    send(module_suite.bootstrap, event_of(registration))
    wait_for(lambda: posted("RCV-E2E-EARLY"), what="the parked receipt, once its facility is known")
    assert finance.process.poll() is None and finance.ready()


def receipt(facility_id: str, receipt_id: str) -> StockReceived:
    return StockReceived(
        receipt_id=receipt_id,
        facility_id=facility_id,
        drug_code="QSY-W011",
        lot_number="L-E2E",
        expiry_date=date.today() + timedelta(days=400),
        quantity=10,
        unit_cost=Decimal("3.9000"),
        source=ReceiptSource.PURCHASE,
        received_at=utc_now(),
    )
