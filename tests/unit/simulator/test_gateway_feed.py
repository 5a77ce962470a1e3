"""Which facilities the simulator feeds through the gateway, and what it sends there: the
resident id and never the pseudonym, message ids that a resend repeats, a FHIR batch Bundle
per flush; without the gateway, everything goes onto Kafka (said once)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from libs.events import Payload, utc_now
from libs.events.catalogue.ingestion import PrescriptionIssued, PrescriptionLine, VisitRecorded
from simulator.drivers import SERVICES, Endpoints
from simulator.gateway_feed import (
    FeedRouter,
    GatewaySink,
    Pending,
    fhir_batch,
    json_message,
    load_members,
    message_id_of,
    open_feed,
)
from simulator.his_feed import EventSink
from simulator.run_result import RunResult

PATIENT = "320412198507150013"
PSEUDONYM = "e" * 64
AT = utc_now() - timedelta(minutes=3)


def visit(facility: str = "QS-T02", visit_id: str = "V-1") -> VisitRecorded:
    return VisitRecorded(
        visit_id=visit_id, facility_id=facility, facility_tier="primary",
        patient_pseudonym=PSEUDONYM, insurance_type="self_pay", visit_type="outpatient",
        department_id="D-1", diagnosis_codes=["J06.9"], total_amount=Decimal("20.00"),
        eligible_amount=Decimal("0.00"), occurred_at=AT,
    )  # fmt: skip


def prescription(facility: str = "QS-T01", visit_id: str = "V-1") -> PrescriptionIssued:
    return PrescriptionIssued(
        prescription_id="RX-1", visit_id=visit_id, facility_id=facility,
        facility_tier="primary", patient_pseudonym=PSEUDONYM, category="western",
        lines=[PrescriptionLine(line_no=1, drug_code="QSY-W011", quantity=1,
                                unit_price=Decimal("3.10"))],
        total_amount=Decimal("3.10"), issued_at=AT,
    )  # fmt: skip


def pending(payload: Payload) -> Pending:
    return Pending(message_id_of(payload), "ingestion.visit", payload, PATIENT)


def test_the_member_his_of_the_systems_file_and_their_formats() -> None:
    members = load_members()
    assert {f: m.format for f, m in members.items()} == {
        "QS-T01": "fhir", "QS-T05": "fhir", "QS-T02": "json", "QS-C01": "json",
    }  # fmt: skip
    assert members["QS-T02"].secret == "DEVELOPMENT-QS-T02-HIS"
    assert load_members(production=True) == {}
    assert SERVICES["gateway"] == 8107


def test_json_carries_the_resident_id_never_the_pseudonym() -> None:
    message = json_message(pending(visit()))
    assert message["message_id"] == "ingestion.visit.recorded.v1:QS-T02/V-1"
    assert message["type"] == "ingestion.visit.recorded.v1"
    data = message["data"]
    assert data["patient_national_id"] == PATIENT
    assert "patient_pseudonym" not in data and "facility_tier" not in data
    assert PSEUDONYM not in str(message)


def test_a_fhir_batch_is_the_same_bundle_when_sent_again() -> None:
    items = [pending(visit("QS-T01")), pending(prescription()), pending(visit("QS-T01", "V-2"))]
    bundle, firsts = fhir_batch("QS-T01", items)
    again, _ = fhir_batch("QS-T01", list(items))
    assert bundle == again and bundle["type"] == "batch"
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert kinds == ["Patient", "Encounter", "MedicationRequest", "Encounter"]
    assert firsts == [1, 2, 3]
    assert bundle["identifier"]["value"].startswith("sim-QS-T01-")
    rx = bundle["entry"][2]["resource"]
    assert rx["encounter"] == {"reference": bundle["entry"][1]["fullUrl"]}
    assert PSEUDONYM not in str(bundle) and PATIENT in str(bundle)
    other, _ = fhir_batch("QS-T01", items[:2])
    assert other["identifier"] != bundle["identifier"]


def test_a_prescription_whose_visit_went_earlier_names_it_by_its_id() -> None:
    bundle, _ = fhir_batch("QS-T01", [pending(prescription(visit_id="V-9"))])
    encounter = bundle["entry"][1]["resource"]["encounter"]
    assert encounter["identifier"]["value"] == "V-9" and "reference" not in encounter


class Kafka(EventSink):
    def __init__(self, endpoints: Endpoints | None = None) -> None:
        self.sent: dict[str, int] = {}
        self.resent = 0
        self.facilities: list[str] = []

    def send(self, payload: Payload, *, at: datetime, facility_id: str) -> None:
        self.facilities.append(facility_id)
        self.sent["ingestion.visit"] = self.sent.get("ingestion.visit", 0) + 1

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass


def endpoints(**urls: str) -> Endpoints:
    return Endpoints(urls, "127.0.0.1:1", "t.", Path("/nowhere"))


def test_without_the_gateway_every_facility_goes_onto_kafka_said_once() -> None:
    said: list[str] = []
    feed = open_feed(endpoints(pharmacy="http://p"), RunResult(), said.append, kafka=Kafka)
    for facility in ("QS-T01", "QS-T02", "QS-H01"):
        feed.send(visit(facility), at=AT, facility_id=facility, national_id=PATIENT)
    assert isinstance(feed.kafka, Kafka) and feed.kafka.facilities == ["QS-T01", "QS-T02", "QS-H01"]
    assert feed.gateway is None and len(said) == 1 and "not running" in said[0]


def test_members_go_to_the_gateway_the_others_to_kafka_and_the_counts_add_up() -> None:
    posted: list[Any] = []

    def gateway(request: httpx.Request) -> httpx.Response:
        body = httpx.Response(200, content=request.content).json()
        posted.append((request.url.path, body))
        results = [
            {"message_id": m["message_id"], "status": 202, "event_id": "e", "event_type": m["type"]}
            for m in body["messages"]
        ]
        return httpx.Response(
            202, json={"accepted": len(results), "refused": 0, "results": results}
        )

    client = httpx.Client(base_url="http://gw", transport=httpx.MockTransport(gateway))
    said: list[str] = []
    feed = open_feed(
        endpoints(gateway="http://gw"), RunResult(), said.append, kafka=Kafka, client=client
    )
    feed.send(visit("QS-T02"), at=AT, facility_id="QS-T02", national_id=PATIENT)
    feed.send(visit("QS-H01"), at=AT, facility_id="QS-H01", national_id=PATIENT)
    assert posted == []  # buffered until the checkpoint
    feed.flush()
    assert [path for path, _ in posted] == ["/messages/batch"]
    assert isinstance(feed.kafka, Kafka) and feed.kafka.facilities == ["QS-H01"]
    assert feed.sent == {"ingestion.visit": 2}
    assert len(said) == 1 and "QS-T01 (fhir)" in said[0]


def test_a_full_batch_goes_without_waiting_for_the_checkpoint() -> None:
    calls: list[int] = []

    def gateway(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(503)

    result = RunResult()
    sink = GatewaySink(
        httpx.Client(base_url="http://gw", transport=httpx.MockTransport(gateway)),
        load_members(),
        result,
        sleep=lambda _: None,
    )
    sink.PATIENCE_S = 0.0
    router = FeedRouter(Kafka(), sink)
    for n in range(GatewaySink.BATCH_MESSAGES):
        router.send(visit("QS-T02", f"V-{n}"), at=AT, facility_id="QS-T02", national_id=PATIENT)
    assert calls == [1]  # given up at once here: every message reported, none dropped
    assert result.counts["gateway:refused"] == GatewaySink.BATCH_MESSAGES
    assert all("unreachable" in p for p in result.problems) and router.sent == {}
    assert router.faults == {"gateway:status:503": 1}
