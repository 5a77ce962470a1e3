"""A township HIS submits through the gateway, on the real broker and databases: its FHIR
bundle is dispensed by pharmacy, booked by finance and counted by reporting, once however
often it is sent; it cannot speak for another facility; a malformed bundle is answered with
an OperationOutcome and publishes nothing; a member's silent feed is announced once and its
resumption once; and no resident identity number reaches any table, log, metric or event."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import MetaData, create_engine, select

from libs.events.codec import decode
from libs.events.registry import registry
from libs.events.topics import dead_letter_topic
from libs.platform.auth import Role
from tests.conftest import Suite
from tests.support.brokers import TestBroker
from tests.support.gateway import (
    DRUG,
    FHIR_FACILITY,
    FHIR_SYSTEM,
    basic,
    fhir_visit_bundle,
    national_id,
    visit_message,
)
from tests.support.kafka import read_all, wait_for
from tests.support.services import ServiceHandle

FHIR = {"Content-Type": "application/fhir+json"}
QUIET_SYSTEM, QUIET_FACILITY = "QS-T03-HIS", "QS-T03"
SYSTEMS = f"""
defaults:
  opening_hours: ["00:00-24:00"]
  silent_after_minutes: 60
  requests_per_minute: 600
  burst: 100
  max_request_bytes: 1048576
systems:
  - {{system_id: {FHIR_SYSTEM}, facility_id: {FHIR_FACILITY}, kind: his, format: fhir}}
  - {{system_id: {QUIET_SYSTEM}, facility_id: {QUIET_FACILITY}, kind: his, format: json,
      silent_after_minutes: 0.1}}
"""


def events(bootstrap: str, topic: str, **match: Any) -> list[Any]:
    found = []
    for record in read_all(bootstrap, topic):
        event = decode(record.value)
        if all(getattr(event.data, k, None) == v for k, v in match.items()):
            found.append(event)
    return found


def on_hand(pharmacy: ServiceHandle, facility: str, drug: str) -> int:
    with pharmacy.client(Role.PHARMACY_CENTRE) as client:
        response = client.get(f"/stock/{facility}/drugs/{drug}")
    lots = response.json()["lots"] if response.status_code == 200 else []
    return sum(lot["on_hand"] for lot in lots)


def applied(service: ServiceHandle, topic: str) -> float:
    return service.metric(f"{service.name}_events_consumed_total", topic=topic, outcome="applied")


@pytest.mark.parametrize("broker", ["kafka"], indirect=True)
def test_a_township_bundle_is_dispensed_booked_and_counted_once(
    suite: Suite, broker: TestBroker, tmp_path: Path
) -> None:
    systems = tmp_path / "systems.yaml"
    systems.write_text(SYSTEMS, encoding="utf-8")
    env = {"GATEWAY_SYSTEMS_CONFIG": str(systems), "GATEWAY_FEED_SCAN_INTERVAL_S": "1"}
    running = suite.start(
        "administration", "staffing", "pharmacy", "finance", "reporting", "gateway", env=env
    )
    gateway, pharmacy, finance, reporting = (
        running[n] for n in ("gateway", "pharmacy", "finance", "reporting")
    )
    wait_for(lambda: gateway.get_json(f"/directory/facilities/{FHIR_FACILITY}"), what="county")
    wait_for(lambda: on_hand(pharmacy, FHIR_FACILITY, DRUG) > 0, what="the clinic's opening stock")
    bootstrap = suite.bootstrap
    patient = national_id(20261203)
    bundle = fhir_visit_bundle("HIS-T01-0001", "GV-1", "GRX-1", patient=patient)

    def post(body: dict[str, Any], system: str = FHIR_SYSTEM) -> httpx.Response:
        headers = {**FHIR, **basic(system)}
        return httpx.post(f"{gateway.url}/fhir", json=body, headers=headers, timeout=30)

    first = post(bundle)
    assert first.status_code == 200, first.text
    assert [e["response"]["status"] for e in first.json()["entry"]][1:] == ["202 Accepted"] * 2

    dispensed = wait_for(
        lambda: events(bootstrap, "pharmacy.prescription", prescription_id="GRX-1"),
        what="pharmacy dispensing the bundle's prescription",
    )
    assert dispensed[0].type == "pharmacy.prescription.dispensed.v1"
    wait_for(
        lambda: (
            applied(finance, "pharmacy.prescription") >= 1
            and applied(finance, "ingestion.visit") >= 1
        ),
        what="finance booking the dispensing and the visit",
    )
    wait_for(
        lambda: (
            applied(reporting, "ingestion.prescription") == 1
            and applied(reporting, "ingestion.visit") == 1
        ),
        what="reporting counting the visit and the prescription",
    )

    # Sent again, as is and under a new message id: the first answer, nothing new.
    assert post(bundle).json() == first.json()
    renamed = post({**bundle, "identifier": {"value": "HIS-T01-0002"}})
    assert renamed.status_code == 200 and "W/" in renamed.text

    # Another facility's bundle: 403. A malformed one: an OperationOutcome, nothing sent.
    other = fhir_visit_bundle(
        "HIS-T01-0003", "GV-X", "GRX-X", facility="QS-T02", kind="transaction"
    )
    assert post(other).status_code == 403
    broken = fhir_visit_bundle("HIS-T01-0004", "GV-Y", "GRX-Y", kind="transaction")
    broken["entry"][1]["resource"]["status"] = "bogus"
    del broken["entry"][2]["resource"]["medicationCodeableConcept"]
    refused = post(broken)
    assert refused.status_code == 422 and refused.json()["resourceType"] == "OperationOutcome"
    assert len(refused.json()["issue"]) >= 2

    # The feed that stays quiet is announced silent once, and resumed once when it sends.
    silent = wait_for(
        lambda: events(bootstrap, "gateway.feed", system_id=QUIET_SYSTEM), what="the silence"
    )
    message = visit_message("Q-1", "GV-Q1", facility=QUIET_FACILITY, patient=patient)
    answer = httpx.post(f"{gateway.url}/messages", json=message, headers=basic(QUIET_SYSTEM))
    assert answer.status_code == 202, answer.text
    feed = wait_for(
        lambda: (
            found
            if len(found := events(bootstrap, "gateway.feed", system_id=QUIET_SYSTEM)) >= 2
            else None
        ),
        what="the resumption",
    )
    assert [e.type for e in feed[:2]] == [
        "gateway.feed.fallen_silent.v1",
        "gateway.feed.resumed.v1",
    ]
    assert silent[0].data.silent_since == feed[1].data.silent_since

    # Nothing of the refused or repeated bundles reached the topics; the first did once.
    wait_for(lambda: applied(reporting, "ingestion.visit") == 2, what="the quiet feed's visit")
    visits = [e.data.visit_id for e in events(bootstrap, "ingestion.visit")]
    assert sorted(visits) == ["GV-1", "GV-Q1"]
    assert [e.data.prescription_id for e in events(bootstrap, "ingestion.prescription")] == [
        "GRX-1"
    ]
    assert applied(reporting, "ingestion.prescription") == 1
    with gateway.client(Role.COUNTY_ADMIN) as admin:
        feeds = {f["system_id"]: f for f in admin.get("/feeds").json()}
    assert feeds[FHIR_SYSTEM]["refusal_reasons"], feeds[FHIR_SYSTEM]
    # It fell silent again since (6 s of quiet is its threshold here): the resumption shows
    # as the message it took, and a silence that began after it.
    quiet = feeds[QUIET_SYSTEM]
    assert quiet["last_message_at"] is not None and quiet["accepted_today"] == 1
    last = datetime.fromisoformat(quiet["last_message_at"])
    assert not quiet["silent"] or datetime.fromisoformat(quiet["silent_since"]) >= last

    assert_nowhere(patient, suite, running)


def assert_nowhere(national: str, suite: Suite, running: dict[str, ServiceHandle]) -> None:
    """The resident identity number in no table, log line, metric or event of the suite."""
    needle = national.encode()
    for name, service in running.items():
        assert national not in service.log(), f"{name}'s log"
        assert national not in service.metrics(), f"{name}'s metrics"
        engine = create_engine(service.database_url)
        tables = MetaData()
        with engine.connect() as connection:
            tables.reflect(connection)
            for table in tables.tables.values():
                for row in connection.execute(select(table)):
                    assert national not in repr(tuple(row)), f"{name}.{table.name}"
        engine.dispose()
    topics = {spec.topic for spec in registry}
    for topic in sorted(topics | {dead_letter_topic(t) for t in topics}):
        for record in read_all(suite.bootstrap, topic, timeout_s=5):
            assert needle not in (record.value or b""), topic
