"""The pharmacy with the real broker, real databases and real processes.

Staffing publishes the seed county; the pharmacy keeps its copy, lists the seed formulary,
dispenses prescriptions produced onto ``ingestion.prescription`` and moves stock between
members over its admin API. Each scenario uses drug codes of its own, so the two share one
suite (started once per kind of database).
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from libs.events import decode, encode
from libs.platform.auth import Role
from tests.conftest import Suite
from tests.integration.pharmacy.builders import NO_VILLAGE, prescription
from tests.support.kafka import produce, read_all, wait_for
from tests.support.services import ServiceHandle


@pytest.fixture(scope="module")
def pharmacy(module_suite: Suite) -> ServiceHandle:
    running = module_suite.start("administration", "staffing", "pharmacy")
    service = running["pharmacy"]
    wait_for(
        lambda: _get(service, "/directory/facilities/QS-V01") is not None,
        what="the pharmacy's copy of the seed county",
    )
    return service


def _get(service: ServiceHandle, path: str, **params: Any) -> Any:
    with service.client(Role.PHARMACY_CENTRE) as client:
        response = client.get(path, params=params)
    return response.json() if response.status_code == 200 else None


def _list_drug(service: ServiceHandle, code: str, price: str, **extra: Any) -> None:
    body = {
        "drug_code": code,
        "name": f"测试药品{code}",
        "dosage_form": "片剂",
        "strength": "5mg",
        "pack_size": 28,
        "unit": "盒",
        "unit_price": price,
        "essential": True,
        "tcm": False,
        "allowed_tiers": ["primary", "secondary", "tertiary"],
        **extra,
    }
    with service.client(Role.PHARMACY_CENTRE) as client:
        response = client.post("/formulary/drugs", json=body)
    assert response.status_code == 201, response.text


def _receive(
    service: ServiceHandle, facility: str, drug: str, lot: str, quantity: int, days: int
) -> None:
    expiry = (datetime.now(UTC).date() + timedelta(days=days)).isoformat()
    body = {"drug_code": drug, "lot_number": lot, "expiry_date": expiry, "quantity": quantity}
    with service.client(Role.CLINIC_STAFF, facility) as client:
        response = client.post(f"/stock/{facility}/receipts", json=body)
    assert response.status_code == 201, response.text


def _on_hand(service: ServiceHandle, facility: str, drug: str) -> dict[str, int]:
    view = _get(service, f"/stock/{facility}/drugs/{drug}") or {"lots": []}
    return {lot["lot_number"]: lot["on_hand"] for lot in view["lots"]}


def _events(bootstrap: str, topic: str, **match: Any) -> list[Any]:
    found = []
    for record in read_all(bootstrap, topic):
        if record.value is None:
            continue
        event = decode(record.value)
        if all(getattr(event.data, k, None) == v for k, v in match.items()):
            found.append(event)
    return found


def test_prescriptions_from_the_broker_are_dispensed_fefo_short_or_rejected_once(
    pharmacy: ServiceHandle, module_suite: Suite
) -> None:
    tag = uuid.uuid4().hex[:6].upper()
    both_lots, scarce, restricted = f"E-{tag}-A", f"E-{tag}-B", f"E-{tag}-R"
    _list_drug(pharmacy, both_lots, "4.2000")
    _list_drug(pharmacy, scarce, "3.9000")
    _list_drug(pharmacy, restricted, "9.6000", allowed_facility_types=[t.value for t in NO_VILLAGE])
    _receive(pharmacy, "QS-T01", both_lots, "LATE", 40, 700)
    _receive(pharmacy, "QS-T01", both_lots, "EARLY", 20, 90)
    _receive(pharmacy, "QS-T01", scarce, "S1", 5, 300)

    fefo = prescription("QS-T01", (both_lots, 25), prescription_id=f"RX-{tag}-1")
    short = prescription("QS-T01", (scarce, 8), prescription_id=f"RX-{tag}-2")
    village = prescription("QS-V01", (restricted, 1), prescription_id=f"RX-{tag}-3")
    stranger = prescription(f"QS-X-{tag}", (both_lots, 1), prescription_id=f"RX-{tag}-4")
    for event in (fefo, short, village, stranger):
        produce(
            module_suite.bootstrap,
            "ingestion.prescription",
            [encode(event)],
            key=event.data.facility_id.encode(),
        )

    wait_for(lambda: _on_hand(pharmacy, "QS-T01", both_lots) == {"LATE": 35}, what="FEFO dispense")
    wait_for(lambda: _on_hand(pharmacy, "QS-T01", scarce) == {}, what="the partial dispense")

    def outcomes() -> dict[str, Any] | None:
        found = {
            e.data.prescription_id: e.data
            for e in _events(module_suite.bootstrap, "pharmacy.prescription")
            if e.data.prescription_id.startswith(f"RX-{tag}-")
        }
        return found if len(found) == 3 else None

    dispensed = wait_for(outcomes, what="dispensed and rejected events on pharmacy.prescription")
    first = dispensed[f"RX-{tag}-1"].lines[0]
    assert [(lot.lot_number, lot.quantity) for lot in first.lots] == [("EARLY", 20), ("LATE", 5)]
    assert first.amount == Decimal("105.00")
    partial = dispensed[f"RX-{tag}-2"]
    assert (partial.complete, partial.lines[0].quantity_dispensed) == (False, 5)
    rejected = dispensed[f"RX-{tag}-3"]
    assert rejected.lines[0].reason == "tier_not_allowed"

    shortage = wait_for(
        lambda: _events(
            module_suite.bootstrap, "pharmacy.stock", drug_code=scarce, quantity_short=3
        ),
        what="the shortage event",
    )
    assert shortage[0].data.prescription_id == f"RX-{tag}-2"
    requests = wait_for(
        lambda: [
            e
            for e in _events(module_suite.bootstrap, "pharmacy.transfer", to_facility_id="QS-T01")
            if any(line.drug_code == scarce for line in e.data.lines)
        ],
        what="the replenishment request",
    )
    assert requests[0].data.from_facility_id == "QS-H01"  # the central pharmacy
    letters = wait_for(
        lambda: [
            r
            for r in read_all(module_suite.bootstrap, "ingestion.prescription.dlt")
            if r.headers.get("dlt-event-id") == stranger.id.encode()
        ],
        what="the unknown facility's prescription dead-lettered",
    )
    assert letters[0].headers["dlt-reason"] == b"unknown_facility"

    # A replayed prescription (the same record, and a resend under a new event id) changes
    # nothing. A sentinel behind them on the same partition shows they were consumed.
    sentinel_drug = f"E-{tag}-S"
    _list_drug(pharmacy, sentinel_drug, "1.0000")
    _receive(pharmacy, "QS-T01", sentinel_drug, "S1", 3, 300)
    again = prescription("QS-T01", (both_lots, 25), prescription_id=f"RX-{tag}-1")
    sentinel = prescription("QS-T01", (sentinel_drug, 1))
    produce(
        module_suite.bootstrap,
        "ingestion.prescription",
        [encode(fefo), encode(again), encode(sentinel)],
        key=b"QS-T01",
    )
    wait_for(lambda: _on_hand(pharmacy, "QS-T01", sentinel_drug) == {"S1": 2}, what="sentinel")
    assert _on_hand(pharmacy, "QS-T01", both_lots) == {"LATE": 35}
    copies = [
        e
        for e in _events(module_suite.bootstrap, "pharmacy.prescription")
        if e.data.prescription_id == f"RX-{tag}-1"
    ]
    assert len(copies) == 1
    # The seed formulary was announced, and the demo's opening stock booked once the
    # organisation arrived.
    listed = _events(module_suite.bootstrap, "pharmacy.drug", drug_code="QSY-W011")
    assert listed[0].type == "pharmacy.drug.listed.v1"
    wait_for(
        lambda: _on_hand(pharmacy, "QS-V01", "QSY-W024") == {"PCM2410A": 10},
        what="the opening stock",
    )
    summary = _get(pharmacy, f"/stock/QS-T01/drugs/{both_lots}/reconciliation")
    assert (summary["receipts"], summary["dispensed"], summary["on_hand"]) == (60, 25, 35)
    assert summary["reconciles"] is True


def test_a_transfer_leaves_one_member_and_arrives_at_the_other_exactly_once(
    pharmacy: ServiceHandle, module_suite: Suite
) -> None:
    tag = uuid.uuid4().hex[:6].upper()
    drug = f"E-{tag}-T"
    _list_drug(pharmacy, drug, "17.6000")
    _receive(pharmacy, "QS-H01", drug, "C-EARLY", 10, 200)
    _receive(pharmacy, "QS-H01", drug, "C-LATE", 40, 500)

    with pharmacy.client(Role.CLINIC_STAFF, "QS-T02") as clinic:
        created = clinic.post(
            "/transfers",
            json={"to_facility_id": "QS-T02", "lines": [{"drug_code": drug, "quantity": 15}]},
        )
    assert created.status_code == 201, created.text
    transfer = created.json()["transfer_id"]
    with pharmacy.client(Role.PHARMACY_CENTRE) as centre:
        assert centre.post(f"/transfers/{transfer}/approve", json={}).status_code == 200
        assert centre.post(f"/transfers/{transfer}/ship", json={}).status_code == 200
        assert centre.post(f"/transfers/{transfer}/ship", json={}).status_code == 409

    def receive(_: int) -> int:
        with pharmacy.client(Role.CLINIC_STAFF, "QS-T02") as clinic:
            return clinic.post(f"/transfers/{transfer}/receive").status_code

    with ThreadPoolExecutor(3) as pool:
        statuses = sorted(pool.map(receive, range(3)))
    assert statuses == [200, 409, 409]

    assert _on_hand(pharmacy, "QS-H01", drug) == {"C-LATE": 35}
    assert _on_hand(pharmacy, "QS-T02", drug) == {"C-EARLY": 10, "C-LATE": 5}
    for facility in ("QS-H01", "QS-T02"):
        assert _get(pharmacy, f"/stock/{facility}/drugs/{drug}/reconciliation")["reconciles"]
    steps = wait_for(
        lambda: (
            found
            if len(
                found := _events(module_suite.bootstrap, "pharmacy.transfer", transfer_id=transfer)
            )
            == 4
            else None
        ),
        what="the transfer's four events",
    )
    assert [e.type.split(".")[2] for e in steps] == ["requested", "approved", "shipped", "received"]
    received = steps[-1].data
    assert received.total_value == Decimal("264.00")  # 15 × 17.6000, settled at the unified price
    assert pharmacy.metric("pharmacy_transfers", state="received") >= 1
