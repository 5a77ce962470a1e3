"""Transfers over the pharmacy's admin API: roles, states and what the sender can offer."""

from __future__ import annotations

from libs.platform.auth import Role


def test_an_approval_beyond_what_the_sender_can_offer_is_refused_with_what_it_can(
    world_and_api,
) -> None:
    """Stock the sender lacks (or has promised to an earlier approval) is refused at approval,
    not days later at shipping; no body approves all of it."""
    world, api = world_and_api
    drug = world.drug("ASP", "4.5000")
    world.receive(world.hospital, drug, "S1", 10)

    def requested(quantity: int) -> str:
        body = {
            "to_facility_id": world.township,
            "lines": [{"drug_code": drug, "quantity": quantity}],
        }
        created = api.call("POST", "/transfers", Role.CLINIC_STAFF, world.township, json=body)
        assert created.status_code == 201, created.text
        return str(created.json()["transfer_id"])

    first, second = requested(6), requested(99_999)
    assert api.call("POST", f"/transfers/{first}/approve").status_code == 200  # no body at all
    refused = api.call("POST", f"/transfers/{second}/approve")
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"] == "insufficient_stock"
    assert refused.json()["details"] == {"available": {drug: 4}}  # 10 on hand, 6 promised
    lines = {"lines": [{"drug_code": drug, "quantity": 4}]}
    assert api.call("POST", f"/transfers/{second}/approve", json=lines).status_code == 200


def test_transfers_over_http_follow_roles_and_states(world_and_api) -> None:
    world, api = world_and_api
    drug = world.drug("ASP", "4.5000")
    world.receive(world.hospital, drug, "S1", 30)
    body = {"to_facility_id": world.township, "lines": [{"drug_code": drug, "quantity": 6}]}

    assert (
        api.call("POST", "/transfers", Role.CLINIC_STAFF, world.village, json=body).status_code
        == 403
    )
    created = api.call("POST", "/transfers", Role.CLINIC_STAFF, world.township, json=body)
    assert created.status_code == 201, created.text
    assert created.json()["from_facility_id"] == world.hospital  # its central pharmacy
    transfer = created.json()["transfer_id"]
    steps = f"/transfers/{transfer}"
    assert (
        api.call("POST", f"{steps}/approve", Role.CLINIC_STAFF, world.township, json={}).status_code
        == 403
    )
    assert api.call("POST", f"{steps}/receive").json()["error"] == "invalid_transition"
    assert (
        api.call(
            "POST", f"{steps}/approve", json={"lines": [{"drug_code": drug, "quantity": 7}]}
        ).status_code
        == 422
    )
    assert api.call("POST", f"{steps}/approve", json={}).status_code == 200
    assert (
        api.call("POST", f"{steps}/ship", Role.CLINIC_STAFF, world.township, json={}).status_code
        == 403
    )
    assert api.call("POST", f"{steps}/ship", json={}).status_code == 200
    assert api.call("POST", f"{steps}/receive", Role.CLINIC_STAFF, world.village).status_code == 403
    assert (
        api.call("POST", f"{steps}/receive", Role.CLINIC_STAFF, world.township).status_code == 200
    )
    again = api.call("POST", f"{steps}/receive", Role.CLINIC_STAFF, world.township)
    assert (again.status_code, again.json()["error"]) == (409, "invalid_transition")
    assert api.call("POST", "/transfers/TRF-NONE/ship", json={}).status_code == 404

    view = api.call("GET", steps, Role.CLINIC_STAFF, world.township).json()
    assert view["state"] == "received"
    assert view["lines"][0]["quantity_shipped"] == 6
    assert api.call("GET", steps, Role.CLINIC_STAFF, world.village).status_code == 403
    mine = api.call("GET", "/transfers", Role.CLINIC_STAFF, world.village).json()
    assert mine["total"] == 0
    assert api.call("GET", "/transfers", params={"state": "received"}).json()["total"] == 1

    # Surplus to shortage (余缺调度): the centre moves the township's surplus to the village,
    # whose staff cannot ship what leaves the township but the township's staff can.
    rebalance = {
        "from_facility_id": world.township,
        "to_facility_id": world.village,
        "reason": "surplus_rebalance",
        "lines": [{"drug_code": drug, "quantity": 2}],
    }
    assert (
        api.call("POST", "/transfers", Role.CLINIC_STAFF, world.village, json=rebalance).status_code
        == 403
    )
    moved = api.call("POST", "/transfers", json=rebalance).json()["transfer_id"]
    assert api.call("POST", f"/transfers/{moved}/approve", json={}).status_code == 200
    assert (
        api.call(
            "POST", f"/transfers/{moved}/ship", Role.CLINIC_STAFF, world.village, json={}
        ).status_code
        == 403
    )
    assert (
        api.call(
            "POST", f"/transfers/{moved}/ship", Role.CLINIC_STAFF, world.township, json={}
        ).status_code
        == 200
    )
    assert (
        api.call(
            "POST", f"/transfers/{moved}/receive", Role.CLINIC_STAFF, world.village
        ).status_code
        == 200
    )
    assert api.call("GET", f"/stock/{world.village}/drugs/{drug}").json()["on_hand"] == 2
    assert api.call("GET", f"/stock/{world.township}/drugs/{drug}").json()["on_hand"] == 4
