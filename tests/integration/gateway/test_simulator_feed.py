"""The simulator's member systems against a real gateway (in-process, on each database): their
visits and prescriptions are published once however often they are sent, the patient goes as
the resident id, and what the gateway refuses is reported with its reasons."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import httpx
from fastapi.testclient import TestClient

from libs.events import utc_now
from libs.events.catalogue.ingestion import PrescriptionIssued, PrescriptionLine, VisitRecorded
from libs.events.pseudonym import pseudonymise
from simulator.gateway_feed import GatewaySink, Member, load_members
from simulator.run_result import RunResult
from tests.support.gateway import DRUG, FHIR_FACILITY, JSON_FACILITY, national_id
from tests.support.referral import PSEUDONYM_SECRET

VISITS, PRESCRIPTIONS = "ingestion.visit.recorded.v1", "ingestion.prescription.issued.v1"
#: What the runner would put in the payload for the Kafka path; the gateway path drops it.
NOT_SENT = "f" * 64


class Flaky(httpx.BaseTransport):
    """The gateway behind a bad network: the first requests get ``answers`` (a status; 0:
    the gateway's own answer; ``"lost"``: the request reaches the gateway and its answer is
    lost)."""

    def __init__(self, inner: httpx.BaseTransport, answers: list[int | str]) -> None:
        self.inner, self.answers, self.calls = inner, list(answers), 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        answer = self.answers.pop(0) if self.answers else None
        if isinstance(answer, int) and answer:
            return httpx.Response(answer, headers={"Retry-After": "0"})
        response = self.inner.handle_request(request)
        if answer == "lost":
            response.read()
            raise httpx.ReadError("connection reset", request=request)
        return response


def sink_on(client: TestClient, result: RunResult, answers: list[int | str] = ()) -> GatewaySink:  # type: ignore[assignment]
    transport = Flaky(client._transport, list(answers))
    http = httpx.Client(base_url=str(client.base_url), transport=transport)
    return GatewaySink(http, load_members(), result, sleep=lambda _: None)


def visit(facility: str, visit_id: str, patient: str, at: datetime) -> VisitRecorded:
    return VisitRecorded(
        visit_id=visit_id, facility_id=facility, facility_tier="primary",
        patient_pseudonym=NOT_SENT, insurance_type="urban_rural_resident",
        visit_type="outpatient", department_id=None, diagnosis_codes=["J06.9"],
        total_amount=Decimal("35.00"), eligible_amount=Decimal("30.00"), occurred_at=at,
    )  # fmt: skip


def prescription(facility: str, rx_id: str, visit_id: str, at: datetime) -> PrescriptionIssued:
    return PrescriptionIssued(
        prescription_id=rx_id, visit_id=visit_id, facility_id=facility,
        facility_tier="primary", patient_pseudonym=NOT_SENT, category="western",
        lines=[PrescriptionLine(line_no=1, drug_code=DRUG, quantity=2,
                                unit_price=Decimal("6.25"))],
        total_amount=Decimal("12.50"), issued_at=at,
    )  # fmt: skip


def feed_a_morning(sink: GatewaySink, tag: str, at: datetime | None = None) -> dict[str, str]:
    """Two visits and a prescription for each at a json and a fhir facility; the second
    prescription of each arrives in the batch after its visit's. The patients by visit id."""
    at = at or utc_now() - timedelta(minutes=10)
    patients = {}
    for n, facility in enumerate((JSON_FACILITY, FHIR_FACILITY)):
        for k in (1, 2):
            visit_id, patient = f"V-{tag}-{facility}-{k}", national_id(100 * n + k)
            patients[visit_id] = patient
            sink.send(visit(facility, visit_id, patient, at), at=at, facility_id=facility,
                      national_id=patient)  # fmt: skip
        rx = prescription(facility, f"RX-{tag}-{facility}-1", f"V-{tag}-{facility}-1", at)
        sink.send(rx, at=at, facility_id=facility, national_id=patients[rx.visit_id or ""])
    sink.flush()
    for facility in (JSON_FACILITY, FHIR_FACILITY):
        rx = prescription(facility, f"RX-{tag}-{facility}-2", f"V-{tag}-{facility}-2", at)
        sink.send(rx, at=at, facility_id=facility, national_id=patients[rx.visit_id or ""])
    sink.flush()
    return patients


def test_both_formats_are_published_with_the_county_pseudonym(gateway) -> None:
    client, harness = gateway
    result = RunResult()
    sink = sink_on(client, result)
    patients = feed_a_morning(sink, "a")
    assert not result.problems, result.problems
    assert sink.sent == {"ingestion.visit": 4, "ingestion.prescription": 4}
    visits = {e.data.visit_id: e for e in harness.published(VISITS)}
    assert set(visits) == set(patients)
    for visit_id, event in visits.items():
        assert event.data.patient_pseudonym == pseudonymise(
            patients[visit_id], PSEUDONYM_SECRET.encode()
        )
        assert event.source == f"/his/{event.data.facility_id}"
    prescriptions = harness.published(PRESCRIPTIONS)
    assert {(e.data.facility_id, e.data.visit_id) for e in prescriptions} == {
        (f, f"V-a-{f}-{k}") for f in (JSON_FACILITY, FHIR_FACILITY) for k in (1, 2)
    }
    assert all(e.data.patient_pseudonym != NOT_SENT for e in prescriptions)


def test_a_rerun_publishes_nothing_new_and_expects_nothing(gateway) -> None:
    client, harness = gateway
    at = utc_now() - timedelta(minutes=10)  # the same plan: the same facts, the same times
    feed_a_morning(sink_on(client, RunResult()), "b", at)
    before = len(harness.published())
    result = RunResult()
    again = sink_on(client, result)
    feed_a_morning(again, "b", at)
    assert len(harness.published()) == before
    assert not result.problems and again.sent == {}
    assert result.counts["gateway:replayed"] == 8


def test_lost_answers_and_busy_gateways_are_waited_out_with_the_same_ids(gateway) -> None:
    client, harness = gateway
    result = RunResult()
    # the json batch: lost, 503, 429, answered (replayed); the fhir bundle: lost, replayed
    sink = sink_on(client, result, ["lost", 503, 429, 0, "lost", 0])
    feed_a_morning(sink, "c")
    assert not result.problems, result.problems
    assert sink.sent == {"ingestion.visit": 4, "ingestion.prescription": 4}
    assert len(harness.published(VISITS)) == 4 and len(harness.published(PRESCRIPTIONS)) == 4
    assert sink.faults == {"gateway:ReadError": 2, "gateway:status:503": 1, "gateway:status:429": 1}


def test_refusals_are_reported_with_their_reasons_and_the_rest_is_published(gateway) -> None:
    client, harness = gateway
    result = RunResult()
    sink = sink_on(client, result)
    at = utc_now() - timedelta(minutes=5)
    for facility in (JSON_FACILITY, FHIR_FACILITY):
        good, bad = (
            visit(facility, f"V-d-{facility}", national_id(7), at),
            visit(facility, f"V-e-{facility}", "x", at),
        )
        sink.send(good, at=at, facility_id=facility, national_id=national_id(7))
        sink.send(bad, at=at, facility_id=facility, national_id="110101199003071234")
    sink.flush()
    assert result.counts["gateway:refused"] == 2 and result.counts["gateway:accepted"] == 2
    assert len(result.problems) == 2 and all("422" in p for p in result.problems)
    assert "110101199003071234" not in " ".join(result.problems)
    assert len(harness.published(VISITS)) == 2 and sink.sent == {"ingestion.visit": 2}

    stranger = GatewaySink(
        sink._client, {JSON_FACILITY: Member("QS-T02-HIS", JSON_FACILITY, "json", "wrong")}, result
    )
    stranger.send(
        visit(JSON_FACILITY, "V-f", "x", at),
        at=at,
        facility_id=JSON_FACILITY,
        national_id=national_id(8),
    )
    stranger.flush()
    assert result.counts["gateway:refused"] == 3 and "401" in result.problems[-1]
