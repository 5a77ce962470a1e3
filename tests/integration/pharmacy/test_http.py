"""The pharmacy's admin API on a real database: roles, facility scope and 4xx errors.

The app is the one the service serves (built by ``bootstrap.build``), called in-process;
the end-to-end tests call the real server.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from libs.platform.auth import Role
from tests.integration.pharmacy.builders import (
    NO_VILLAGE,
    TODAY,
    lots,
    prescription,
)


def drug_body(code: str, price: str = "4.2000", **changes: Any) -> dict[str, Any]:
    body = {
        "drug_code": code,
        "name": "苯磺酸氨氯地平片",
        "generic_name": "氨氯地平",
        "dosage_form": "片剂",
        "strength": "5mg",
        "pack_size": 28,
        "unit": "盒",
        "unit_price": price,
        "essential": True,
        "tcm": False,
        "allowed_tiers": ["primary", "secondary", "tertiary"],
    }
    body.update(changes)
    return body


def test_the_formulary_is_read_by_all_and_changed_by_the_pharmacy_centre(world_and_api) -> None:
    world, api = world_and_api
    code = f"D-{world.tag}-AML"
    assert api.call("POST", "/formulary/drugs", None, json=drug_body(code)).status_code == 401
    clinic = api.call(
        "POST", "/formulary/drugs", Role.CLINIC_STAFF, world.township, json=drug_body(code)
    )
    assert clinic.status_code == 403
    created = api.call("POST", "/formulary/drugs", json=drug_body(code))
    assert created.status_code == 201, created.text
    assert created.json()["allowed_facility_types"][-1] == "village_clinic"  # default: all
    assert api.call("POST", "/formulary/drugs", json=drug_body(code)).status_code == 409
    bad_price = api.call("POST", "/formulary/drugs", json=drug_body(code + "X", "-1"))
    assert bad_price.status_code == 422

    changed = api.call("PUT", f"/formulary/drugs/{code}", json=drug_body(code, "4.5000"))
    assert changed.status_code == 200
    assert (
        api.call("GET", f"/formulary/drugs/{code}", Role.CLINIC_STAFF, world.village).json()[
            "unit_price"
        ]
        == "4.5000"
    )
    mismatch = api.call("PUT", f"/formulary/drugs/{code}", json=drug_body("OTHER"))
    assert (mismatch.status_code, mismatch.json()["error"]) == (422, "code_mismatch")
    assert api.call("PUT", "/formulary/drugs/D-NONE", json=drug_body("D-NONE")).status_code == 404
    assert api.call("GET", "/formulary/drugs/D-NONE").status_code == 404

    listing = api.call("GET", "/formulary/drugs", Role.COUNTY_ADMIN, params={"q": world.tag})
    assert listing.json()["total"] == 1
    delisted = api.call("POST", f"/formulary/drugs/{code}/delist", json={"reason": "withdrawn"})
    assert delisted.status_code == 200
    again = api.call("POST", f"/formulary/drugs/{code}/delist", json={"reason": "withdrawn"})
    assert (again.status_code, again.json()["error"]) == (409, "delisted")
    assert api.call("GET", "/formulary/drugs", params={"listed": False}).json()["total"] == 1
    types = [e.type for e in world.harness.published() if e.type.startswith("pharmacy.drug")]
    assert types == [
        "pharmacy.drug.listed.v1",
        "pharmacy.drug.updated.v1",
        "pharmacy.drug.delisted.v1",
    ]


def test_stock_is_moved_by_its_own_facility_with_clear_errors(world_and_api) -> None:
    world, api = world_and_api
    drug = world.drug("MET", "3.9000")
    restricted = world.drug("INJ", "3.4500", holders=NO_VILLAGE)
    expiry = (TODAY + timedelta(days=300)).isoformat()
    receipt = {"drug_code": drug, "lot_number": "M1", "expiry_date": expiry, "quantity": 10}
    path = f"/stock/{world.township}"

    ok = api.call("POST", f"{path}/receipts", Role.CLINIC_STAFF, world.township, json=receipt)
    assert ok.status_code == 201, ok.text
    assert ok.json()["unit_cost"] == "3.9000"  # the unified price when no cost is given
    other = api.call("POST", f"{path}/receipts", Role.CLINIC_STAFF, world.village, json=receipt)
    assert other.status_code == 403
    finance = api.call("POST", f"{path}/receipts", Role.FINANCE_CENTRE, json=receipt)
    assert finance.status_code == 403
    cases = [
        (path, {**receipt, "quantity": -5}, 422, "invalid_input"),
        (path, {**receipt, "quantity": 0}, 422, "invalid_input"),
        (path, {**receipt, "drug_code": "D-NONE"}, 422, "unknown_drug"),
        (f"/stock/{world.village}", {**receipt, "drug_code": restricted}, 422, "tier_not_allowed"),
        ("/stock/F-NOWHERE", receipt, 404, "unknown_facility"),
        (path, {**receipt, "expiry_date": "2001-01-01"}, 422, "expired_lot"),
    ]
    for where, body, status, code in cases:
        response = api.call("POST", f"{where}/receipts", json=body)
        assert (response.status_code, response.json()["error"]) == (status, code), body

    over = api.call(
        "POST",
        f"{path}/adjustments",
        json={"drug_code": drug, "lot_number": "M1", "quantity_delta": -11, "reason": "lost"},
    )
    assert (over.status_code, over.json()["error"]) == (409, "insufficient_stock")
    counted = api.call(
        "POST",
        f"{path}/counts",
        json={
            "lines": [
                {
                    "drug_code": drug,
                    "lot_number": "M1",
                    "expiry_date": expiry,
                    "counted_quantity": 9,
                }
            ]
        },
    )
    assert counted.status_code == 201
    written = api.call(
        "POST",
        f"{path}/write-offs",
        json={"drug_code": drug, "lot_number": "M1", "quantity": 2, "reason": "damaged"},
    )
    assert (written.status_code, written.json()["value"]) == (201, "7.80")  # 2 × 3.90 at cost
    assert (
        api.call("POST", f"{path}/write-offs", json={**written.json(), "extra": 1}).status_code
        == 422
    )

    on_hand = api.call("GET", path, Role.CLINIC_STAFF, world.township).json()
    assert on_hand["items"] == [
        {
            "drug_code": drug,
            "name": f"药品{drug}",
            "unit": "盒",
            "on_hand": 7,
            "expired": 0,
            "reserved": 0,
            "available": 7,
            "stocked_out": False,
        }
    ]
    assert api.call("GET", path, Role.CLINIC_STAFF, world.village).status_code == 403
    lots = api.call("GET", f"{path}/drugs/{drug}").json()
    assert [lot["on_hand"] for lot in lots["lots"]] == [7]
    page = api.call("GET", f"{path}/drugs/{drug}/card", params={"limit": 2}).json()
    assert (page["total"], len(page["items"])) == (3, 2)
    assert [line["kind"] for line in page["items"]] == ["receipt", "adjustment"]
    summary = api.call("GET", f"{path}/drugs/{drug}/reconciliation").json()
    assert summary["reconciles"] is True
    assert (
        summary["receipts"],
        summary["adjustments"],
        summary["written_off"],
        summary["on_hand"],
    ) == (10, -1, 2, 7)
    assert api.call("GET", f"{path}/drugs/{drug}/card", params={"limit": 501}).status_code == 422


def test_lists_levels_and_metrics(world_and_api) -> None:
    world, api = world_and_api
    drug = world.drug("CLO", "17.6000")
    world.receive(world.township, drug, "C1", 2, expires=TODAY + timedelta(days=20), cost="16.0000")
    world.harness.apply(prescription(world.township, (drug, 5)))

    shortages = api.call("GET", "/shortages", Role.CLINIC_STAFF, world.township).json()
    assert [(s["drug_code"], s["quantity_short"]) for s in shortages["items"]] == [(drug, 3)]
    assert (
        api.call(
            "GET",
            "/shortages",
            Role.CLINIC_STAFF,
            world.township,
            params={"facility_id": world.hospital},
        ).status_code
        == 403
    )

    world.receive(world.township, drug, "C2", 4, expires=TODAY + timedelta(days=10), cost="16.0000")
    expiring = api.call("GET", "/expiry/lots", params={"facility_id": world.township}).json()
    assert [(lot["lot_number"], lot["days_left"], lot["value"]) for lot in expiring["items"]] == [
        ("C2", 10, "64.00")
    ]
    value = api.call("GET", "/expiry/value", params={"facility_id": world.township}).json()
    assert value[0]["near_expiry_value"] == "64.00"
    assert api.call("POST", "/expiry/scan", Role.CLINIC_STAFF, world.township).status_code == 403
    assert api.call("POST", "/expiry/scan").json()["facilities_scanned"] >= 1

    levels = f"/replenishment/{world.township}/levels/{drug}"
    assert api.call("PUT", levels, json={"reorder_point": 5, "target_level": 5}).status_code == 422
    assert api.call("PUT", levels, json={"reorder_point": 2, "target_level": 10}).status_code == 204
    assert (
        api.call("GET", f"/stock/{world.township}/drugs/{drug}").json()["levels"]["manual"] is True
    )
    assert api.call("DELETE", levels).status_code == 204
    assert api.call("DELETE", levels).status_code == 404
    balance = api.call(
        "GET",
        "/replenishment/balance",
        Role.CLINIC_STAFF,
        world.township,
        params={"community_id": world.community, "drug_code": drug},
    )
    assert balance.status_code == 403

    metrics = api.client.get("/metrics").text
    for name in (
        "pharmacy_stocked_out_items",
        "pharmacy_open_shortages",
        "pharmacy_shortages_recorded_total",
        "pharmacy_near_expiry_value_yuan",
        'pharmacy_transfers{state="requested"}',
        "pharmacy_dispense_latency_seconds_bucket",
    ):
        assert name in metrics, name


def test_a_receipt_posted_twice_under_one_idempotency_key_is_booked_once(world_and_api) -> None:
    """The finding: a stock keeper's retry (same receipt, same reference) booked it twice."""
    world, api = world_and_api
    drug = world.drug("AML", "2.5000")
    expiry = (TODAY + timedelta(days=300)).isoformat()
    receipt = {
        "drug_code": drug,
        "lot_number": "A1",
        "expiry_date": expiry,
        "quantity": 10,
        "reference_id": "PO-2026-0042",
    }
    path = f"/stock/{world.township}/receipts"

    def post(body: dict[str, Any]) -> Any:
        token = api.process.token_authority.mint(
            subject="keeper", role=Role.CLINIC_STAFF, facility_id=world.township
        )
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "PO-2026-0042/1"}
        return api.client.post(path, json=body, headers=headers)

    first, again = post(receipt), post(receipt)
    assert first.status_code == again.status_code == 201
    assert again.json()["receipt_id"] == first.json()["receipt_id"]
    assert lots(world.harness, world.township, drug) == {"A1": 10}
    changed = post({**receipt, "quantity": 100})
    assert changed.status_code == 409 and changed.json()["error"] == "idempotency_key_reused"
    assert lots(world.harness, world.township, drug) == {"A1": 10}


def test_the_stock_list_names_each_drug_and_a_clinic_finds_who_holds_what_it_lacks(
    world_and_api,
) -> None:
    world, api = world_and_api
    drug = world.drug("NIF", "12.0000")
    world.receive(world.hospital, drug, "N1", 40)
    world.receive(world.village, drug, "N2", 3)

    (item,) = api.call("GET", f"/stock/{world.hospital}").json()["items"]
    assert (item["drug_code"], item["name"], item["unit"], item["available"]) == (
        drug,
        f"药品{drug}",
        "盒",
        40,
    )
    # The township centre has none: who in its community could send some?
    holders = api.call("GET", f"/stock/holders/{drug}", Role.CLINIC_STAFF, world.township)
    assert holders.status_code == 200, holders.text
    assert holders.json() == [
        {"facility_id": world.hospital, "available": 40},
        {"facility_id": world.village, "available": 3},
    ]
    other = api.call(
        "GET",
        f"/stock/holders/{drug}",
        Role.CLINIC_STAFF,
        world.township,
        params={"community_id": "MC-ELSEWHERE"},
    )
    assert other.status_code == 403
    assert api.call("GET", "/stock/holders/NO-SUCH-DRUG").status_code == 404
