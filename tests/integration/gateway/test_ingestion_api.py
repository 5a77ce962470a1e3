"""The gateway's ingestion API in-process, on each database: what a member system is
answered, and what is staged in the outbox (or not) for each answer."""

from __future__ import annotations

from libs.platform.auth import Role
from tests.support.gateway import (
    FHIR_SYSTEM,
    JSON_FACILITY,
    JSON_SYSTEM,
    basic,
    national_id,
    prescription_message,
    visit_message,
)
from tests.support.harness import HandlerHarness


def published(harness: HandlerHarness, type_name: str) -> list:
    return harness.published(type_name)


def test_a_json_visit_is_published_once_however_often_it_is_sent(gateway) -> None:
    client, harness = gateway
    message = visit_message("m-1", "V-1")
    first = client.post("/messages", json=message, headers=basic(JSON_SYSTEM))
    assert first.status_code == 202, first.text
    body = first.json()
    assert body["event_type"] == "ingestion.visit.recorded.v1" and not body["replayed"]

    again = client.post("/messages", json=message, headers=basic(JSON_SYSTEM))
    assert again.status_code == 202 and again.json() == body
    assert again.headers["Idempotent-Replayed"] == "true"

    resent = client.post(
        "/messages", json={**message, "message_id": "m-2"}, headers=basic(JSON_SYSTEM)
    )
    assert resent.status_code == 202 and resent.json()["replayed"] is True
    assert resent.json()["event_id"] == body["event_id"]

    events = published(harness, "ingestion.visit.recorded.v1")
    assert [e.id for e in events] == [body["event_id"]]
    event = events[0]
    assert event.source == f"/his/{JSON_FACILITY}" and event.data.facility_tier == "primary"
    assert len(event.data.patient_pseudonym) == 64


def test_the_same_id_with_another_body_or_the_same_fact_changed_is_refused(gateway) -> None:
    client, harness = gateway
    assert (
        client.post(
            "/messages", json=visit_message("m-3", "V-3"), headers=basic(JSON_SYSTEM)
        ).status_code
        == 202
    )
    reused = client.post("/messages", json=visit_message("m-3", "V-4"), headers=basic(JSON_SYSTEM))
    assert (
        reused.status_code == 409
        and reused.json()["details"]["problems"][0]["code"] == "idempotency_key_reused"
    )
    changed = visit_message("m-5", "V-3")
    changed["data"]["total_amount"] = "99.00"
    refused = client.post("/messages", json=changed, headers=basic(JSON_SYSTEM))
    assert refused.status_code == 409, refused.text
    assert len(published(harness, "ingestion.visit.recorded.v1")) == 1


def test_a_system_speaks_only_for_its_own_facility(gateway) -> None:
    client, harness = gateway
    other = visit_message("m-6", "V-6", facility="QS-T01")
    answer = client.post("/messages", json=other, headers=basic(JSON_SYSTEM))
    assert answer.status_code == 403, answer.text
    assert not published(harness, "ingestion.visit.recorded.v1")


def test_every_problem_is_named_and_no_value_is_repeated(gateway) -> None:
    client, harness = gateway
    bad = visit_message("m-7", "V-7", patient="110101199003071234")
    bad["data"]["visit_type"] = "picnic"
    bad["data"]["eligible_amount"] = "-1"
    answer = client.post("/messages", json=bad, headers=basic(JSON_SYSTEM))
    assert answer.status_code == 422, answer.text
    locations = {p["location"] for p in answer.json()["details"]["problems"]}
    assert "data.patient_national_id" in locations
    assert "110101199003071234" not in answer.text and "picnic" not in answer.text
    assert not published(harness, "ingestion.visit.recorded.v1")


def test_a_batch_is_answered_message_by_message(gateway) -> None:
    client, harness = gateway
    good = prescription_message("b-1", "RX-1")
    bad = prescription_message("b-2", "RX-2")
    bad["data"]["lines"] = []
    answer = client.post(
        "/messages/batch",
        json={"messages": [good, bad, {"nonsense": 1}]},
        headers=basic(JSON_SYSTEM),
    )
    assert answer.status_code == 207, answer.text
    statuses = [r["status"] for r in answer.json()["results"]]
    assert statuses == [202, 422, 422]
    assert len(published(harness, "ingestion.prescription.issued.v1")) == 1


def test_credentials_rates_and_feed_health(gateway) -> None:
    client, _ = gateway
    message = visit_message("m-8", "V-8")
    assert client.post("/messages", json=message).status_code == 401
    assert (
        client.post("/messages", json=message, headers=basic(JSON_SYSTEM, "wrong")).status_code
        == 401
    )
    assert (
        client.post(
            "/messages",
            json=message,
            headers={"X-Api-Key": f"{JSON_SYSTEM}:DEVELOPMENT-{JSON_SYSTEM}"},
        ).status_code
        == 202
    )
    admin = client.app.state.process.token_authority.mint(subject="t", role=Role.COUNTY_ADMIN)
    feeds = client.get("/feeds", headers={"Authorization": f"Bearer {admin}"})
    assert feeds.status_code == 200
    mine = next(f for f in feeds.json() if f["system_id"] == JSON_SYSTEM)
    assert mine["accepted_today"] == 1 and mine["last_message_at"] is not None
    clinic = client.app.state.process.token_authority.mint(
        subject="t", role=Role.CLINIC_STAFF, facility_id="QS-T01"
    )
    assert client.get("/feeds", headers={"Authorization": f"Bearer {clinic}"}).status_code == 403
    assert national_id(1) not in feeds.text
    assert FHIR_SYSTEM in feeds.text


V1, V2 = "ingestion.prescription.issued.v1", "ingestion.prescription.issued.v2"


def test_a_prescription_naming_its_prescriber_is_published_as_v2(gateway) -> None:
    client, harness = gateway
    message = prescription_message("p-1", "RX-V2")
    message["data"] |= {"prescriber_id": "S-T02-001", "patient_age_band": "child"}
    answer = client.post("/messages", json=message, headers=basic(JSON_SYSTEM))
    assert answer.status_code == 202, answer.text
    assert answer.json()["event_type"] == V2
    (event,) = published(harness, V2)
    assert (event.data.prescriber_id, event.data.patient_age_band) == ("S-T02-001", "child")
    assert event.data.pregnant is None

    # An older interface engine's .v1 without a prescriber stays a .v1.
    old = client.post(
        "/messages", json=prescription_message("p-2", "RX-V1"), headers=basic(JSON_SYSTEM)
    )
    assert old.status_code == 202 and old.json()["event_type"] == V1
    assert [e.data.prescription_id for e in published(harness, V1)] == ["RX-V1"]


def test_what_only_v2_says_needs_the_prescriber(gateway) -> None:
    client, harness = gateway
    for message_type in (V1, V2):
        message = prescription_message(f"p-3-{message_type[-2:]}", "RX-NO-PRESCRIBER")
        message["type"] = message_type
        message["data"]["pregnant"] = True
        answer = client.post("/messages", json=message, headers=basic(JSON_SYSTEM))
        assert answer.status_code == 422, answer.text
        locations = {p["location"] for p in answer.json()["details"]["problems"]}
        assert "data.prescriber_id" in locations
    assert not published(harness, V1) and not published(harness, V2)


def test_one_prescription_in_both_versions_is_one_fact(gateway) -> None:
    client, harness = gateway
    v1 = prescription_message("p-4", "RX-BOTH")
    v1["data"]["prescriber_id"] = "S-T02-001"
    v1["type"] = V2  # named .v2 by a newer engine; the same fields as the .v1 below
    first = client.post("/messages", json=v1, headers=basic(JSON_SYSTEM))
    assert first.status_code == 202, first.text
    again = {**v1, "message_id": "p-5", "type": V1}
    again["data"] = {**v1["data"], "patient_age_band": "adult"}
    replay = client.post("/messages", json=again, headers=basic(JSON_SYSTEM))
    assert replay.status_code == 202, replay.text
    assert replay.json()["replayed"] is True
    assert replay.json()["event_id"] == first.json()["event_id"]
    changed = {**v1, "message_id": "p-6"}
    changed["data"] = {**v1["data"], "prescriber_id": "S-T02-009"}
    assert client.post("/messages", json=changed, headers=basic(JSON_SYSTEM)).status_code == 409
    assert len(published(harness, V2)) == 1 and not published(harness, V1)
