"""The referral service as it runs: real processes (staffing publishing the organisation,
referral), the real broker, SQLite and PostgreSQL, over HTTP.

Services start once for the module; each scenario uses its own patients. The last test
scans every event on every topic and every log line for the patients' names and numbers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from fhirclient.models.bundle import Bundle
from kafka import KafkaConsumer, TopicPartition
from sqlalchemy import create_engine, select

from libs.events import encode
from libs.events.catalogue.values import HalfDay
from libs.events.codec import decode
from libs.events.envelope import utc_now
from libs.events.pseudonym import pseudonymise
from libs.events.topics import load_declarations
from libs.platform.auth import Role
from services.referral.adapters.schema import Referral
from tests.conftest import Suite
from tests.support.brokers import credentials_of, topic_on
from tests.support.county_time import county_today
from tests.support.kafka import produce, read_all, wait_for
from tests.support.referral import (
    CLINIC,
    HOSPITAL,
    OTHER_CLINIC,
    PATIENT_DATA_KEYS,
    PSEUDONYM_SECRET,
    chest_pain,
    downward,
    drug,
    event,
    monday,
    resident_id,
    timetable,
    upward,
)
from tests.support.services import ServiceHandle

SEED_FACILITIES = 23
ENV = {
    "PSEUDONYM_SECRET": PSEUDONYM_SECRET,
    "REFERRAL_PATIENT_DATA_KEYS": PATIENT_DATA_KEYS,
    "REFERRAL_SLA_SCAN_INTERVAL_S": "0.5",
    # The strictest level: whatever any library would log must be free of patient data too.
    "LOG_LEVEL": "DEBUG",
}

#: Every patient this module refers, for the privacy scan at the end.
PATIENTS: list[tuple[str, str]] = []


def patient(name: str) -> tuple[str, str]:
    entry = (name, resident_id())
    PATIENTS.append(entry)
    return entry


@dataclass
class Running:
    suite: Suite
    staffing: ServiceHandle
    referral: ServiceHandle

    def as_(self, facility: str | None) -> httpx.Client:
        role = Role.COUNTY_ADMIN if facility is None else Role.CLINIC_STAFF
        return self.referral.client(role, facility)

    def referral_events(self, referral_id: str) -> list[Any]:
        records = read_all(self.suite.bootstrap, "referral.referral")
        return [e for e in (decode(r.value) for r in records) if e.subject == referral_id]


@pytest.fixture(scope="module")
def running(module_suite: Suite) -> Running:
    started = module_suite.start("administration", "staffing", "referral", env=ENV)
    referral = started["referral"]
    wait_for(
        lambda: len(referral.get_json("/directory/facilities")) == SEED_FACILITIES,
        what="the referral service's copy of the seed county",
    )
    return Running(module_suite, started["staffing"], referral)


def test_an_emergency_chest_pain_referral_not_accepted_in_time_breaches_exactly_once(
    running: Running,
) -> None:
    name, national_id = patient("欧阳志远")
    called = (utc_now() - timedelta(minutes=11)).isoformat()  # the phone call came first
    body = chest_pain(name, national_id, to_department_id="QS-H01-EMER", requested_at=called)
    with running.as_(CLINIC) as clinic:
        created = clinic.post("/referrals", json=body)
    assert created.status_code == 201, created.text
    rid = created.json()["referral_id"]

    def breach_events() -> list[Any]:
        return [e for e in running.referral_events(rid) if e.type.endswith("sla_breached.v1")]

    wait_for(breach_events, what="the breach event", timeout_s=30)
    scans = running.referral.metric("referral_sla_scans_total")
    wait_for(
        lambda: running.referral.metric("referral_sla_scans_total") >= scans + 3,
        what="three more runs of the SLA job",
    )
    [breach] = breach_events()
    assert breach.data.stage == "acceptance"
    assert breach.data.green_channel == "chest_pain"
    assert breach.data.escalated_to_role == "medical_director"
    assert breach.source == "/services/referral"
    assert (
        running.referral.metric(
            "referral_sla_breaches_total", priority="emergency", stage="acceptance"
        )
        == 1
    )
    with running.as_(HOSPITAL) as hospital:  # accepting late does not breach it again
        assert hospital.post(f"/referrals/{rid}/accept").status_code == 200
    types = [e.type for e in running.referral_events(rid)]
    assert types.count("referral.referral.sla_breached.v1") == 1


def test_a_referral_cannot_be_accepted_twice_or_completed_before_arrival(
    running: Running,
) -> None:
    name, national_id = patient("司马秀兰")
    day = (county_today() + timedelta(days=2)).isoformat()
    with running.as_(HOSPITAL) as hospital, running.as_(CLINIC) as clinic:
        capacity = hospital.put(
            f"/capacity/{HOSPITAL}/QS-H01-ORTH/{day}", json={"slots": 3, "beds": 0}
        )
        assert capacity.status_code == 200
        rid = clinic.post(
            "/referrals", json=upward(name, national_id, to_department_id="QS-H01-ORTH")
        ).json()["referral_id"]
        assert hospital.post(f"/referrals/{rid}/accept").status_code == 200
        twice = hospital.post(f"/referrals/{rid}/accept")
        assert twice.status_code == 409
        assert twice.json()["details"]["allowed"] == ["schedule", "cancel"]
        early = hospital.post(f"/referrals/{rid}/complete")
        assert early.status_code == 409
        assert "cannot complete" in early.json()["message"]
        assert hospital.get(f"/referrals/{rid}").json()["state"] == "accepted"
    wait_for(lambda: len(running.referral_events(rid)) >= 2, what="requested and accepted")
    types = [e.type for e in running.referral_events(rid)]
    assert types == ["referral.referral.requested.v1", "referral.referral.accepted.v1"]


def test_a_clinic_cannot_read_another_clinic_s_referrals(running: Running) -> None:
    name, national_id = patient("诸葛春燕")
    with running.as_(CLINIC) as clinic:
        body = chest_pain(name, national_id, to_department_id="QS-H01-EMER")
        rid = clinic.post("/referrals", json=body).json()["referral_id"]
    with running.as_(HOSPITAL) as hospital:
        assert hospital.post(f"/referrals/{rid}/accept").status_code == 200  # within its SLA
    with running.as_(OTHER_CLINIC) as other:
        for path in (f"/referrals/{rid}", f"/referrals/{rid}/timeline", f"/referrals/{rid}/fhir"):
            refused = other.get(path)
            assert refused.status_code == 403, path
            assert name not in refused.text
        assert other.get("/referrals", params={"facility_id": CLINIC}).status_code == 403
        listed = other.get("/referrals", params={"limit": 500}).json()["items"]
        assert rid not in {item["referral_id"] for item in listed}
    with running.as_(CLINIC) as clinic:
        assert clinic.get(f"/referrals/{rid}").json()["patient"]["name"] == name


def test_a_downward_referral_with_two_medications_announces_both_on_acceptance(
    running: Running,
) -> None:
    bootstrap = running.suite.bootstrap
    drugs = ("D-E2E-AMLODIPINE", "D-E2E-METFORMIN")
    produce(
        bootstrap,
        "pharmacy.drug",
        [encode(event(drug(code), source="/services/pharmacy")) for code in drugs],
    )
    visit = county_today() + timedelta(days=6)
    week = timetable(CLINIC, monday(visit), ("E2E-T01-CARD", visit, HalfDay.MORNING, "cardiology"))
    produce(bootstrap, "staffing.timetable", [encode(event(week))], key=CLINIC.encode())

    name, national_id = patient("Anna Testpatient")
    body = downward(name, national_id, *drugs)
    with running.as_(HOSPITAL) as hospital:
        # The formulary copy arrives from pharmacy.drug; until then the drugs are unknown (422).
        created = wait_for(
            lambda: _created(hospital.post("/referrals", json=body)),
            what="a downward referral once the drugs are known",
        )
    rid = created["referral_id"]
    with running.as_(CLINIC) as clinic:
        accepted = clinic.post(f"/referrals/{rid}/accept")
    assert accepted.status_code == 200, accepted.text

    def announced() -> dict[str, Any] | None:
        found = {e.type.split(".")[2]: e for e in running.referral_events(rid)}
        return found if {"accepted", "follow_up_booked"} <= found.keys() else None

    found = wait_for(announced, what="the accepted and follow_up_booked events")
    plan = found["accepted"].data.follow_up_plan
    assert [(m.drug_code, m.quantity, m.days_supply) for m in plan.medications] == [
        (drugs[0], 2, 30),
        (drugs[1], 3, 30),
    ]
    assert found["accepted"].data.direction == "down"
    assert found["accepted"].data.to_facility_id == CLINIC  # where pharmacy stocks them
    assert found["follow_up_booked"].data.session_id == "E2E-T01-CARD"
    assert found["follow_up_booked"].data.date == visit


def _created(response: httpx.Response) -> dict[str, Any] | None:
    if response.status_code == 422 and response.json()["error"] == "unknown_drug":
        return None
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def test_the_fhir_view_validates(running: Running) -> None:
    name, national_id = patient("上官海涛")
    with running.as_(CLINIC) as clinic:
        body = chest_pain(name, national_id, to_department_id="QS-H01-EMER")
        rid = clinic.post("/referrals", json=body).json()["referral_id"]
        view = clinic.get(f"/referrals/{rid}/fhir")
    assert view.status_code == 200
    request, task = (entry.resource for entry in Bundle(view.json()).entry)
    assert (request.resource_type, task.resource_type) == ("ServiceRequest", "Task")
    assert (request.status, task.status) == ("active", "requested")
    assert request.subject.identifier.value == pseudonymise(national_id, PSEUDONYM_SECRET.encode())
    with running.as_(CLINIC) as clinic:  # withdrawn before the hospital decided, within SLA
        clinic.post(f"/referrals/{rid}/cancel", json={"reason_code": "condition_changed"})


def test_no_event_metric_or_log_line_contains_a_patient_name_or_national_id(
    running: Running,
) -> None:
    # A refused request too: its error must not echo what it was given.
    name, national_id = patient("慕容晓梅")
    bad = national_id[:-1] + ("1" if national_id[-1] != "1" else "2")
    PATIENTS.append((name, bad))
    with running.as_(CLINIC) as clinic:
        refused = clinic.post("/referrals", json=upward(name, bad))
    assert refused.status_code == 422
    assert bad not in refused.text
    assert name not in refused.text
    assert len(PATIENTS) >= 6

    # Every record of every topic, dead-letter twins included, read to its end.
    topics = [d.name for d in load_declarations()]
    records = _read_everything(running.suite.bootstrap, topics)
    referral_events = [
        r for r in records if r.topic == topic_on(running.suite.bootstrap, "referral.referral")
    ]
    assert len(referral_events) >= 10  # the scan below looked at the real traffic
    texts = [_text(r.value) + repr(r.headers) + repr(r.key) for r in records]
    metrics = running.referral.metrics()
    # Stopped, the processes have flushed every line they wrote (stdout to a file buffers).
    assert running.referral.stop() == 0
    assert running.staffing.stop() == 0
    logs = running.referral.log().splitlines() + running.staffing.log().splitlines()
    assert any("referral requested" in line for line in logs)
    assert any("referral SLA breached" in line for line in logs)
    for name, number in PATIENTS:
        for variant in {number, number.lower()}:
            assert not [t for t in texts if variant in t], "a national id in an event"
            assert not [line for line in logs if variant in line], "a national id in the log"
            assert variant not in metrics
        assert not [t for t in texts if name in t], "a patient name in an event"
        assert not [line for line in logs if name in _text(line.encode())], "a name in the log"
        assert name not in metrics

    # At rest, the referral database holds them encrypted.
    engine = create_engine(running.referral.database_url)
    try:
        with engine.connect() as conn:
            stored = conn.execute(
                select(Referral.patient_name, Referral.patient_national_id, Referral.clinical_note)
            ).all()
    finally:
        engine.dispose()
    blob = b"".join(bytes(v) for row in stored for v in row if v is not None)
    assert stored
    for name, number in PATIENTS:
        assert name.encode() not in blob
        assert number.encode() not in blob


def _text(value: bytes | None) -> str:
    """A record or log line as text, with JSON unicode escapes resolved."""
    if value is None:
        return ""
    raw = value.decode("utf-8", "replace")
    try:
        return raw + json.dumps(json.loads(raw), ensure_ascii=False)
    except ValueError:
        return raw


@dataclass(frozen=True)
class _Record:
    topic: str
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]


def _read_everything(bootstrap: str, topics: list[str], timeout_s: float = 30.0) -> list[_Record]:
    """Every record on ``topics`` now, with one consumer (to each high watermark)."""
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        **credentials_of(bootstrap).client_options(),
    )
    try:
        physical = [topic_on(bootstrap, topic) for topic in topics]
        partitions = [
            TopicPartition(topic, p)
            for topic in physical
            for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        assert {tp.topic for tp in partitions} == set(physical), "topics without partitions"
        consumer.assign(partitions)
        consumer.seek_to_beginning()
        records: list[_Record] = []
        deadline = datetime.now().timestamp() + timeout_s
        while datetime.now().timestamp() < deadline:
            for batch in consumer.poll(timeout_ms=200, max_records=5000).values():
                records += [_Record(r.topic, r.key, r.value, list(r.headers or [])) for r in batch]
            if all(
                consumer.highwater(tp) is not None
                and consumer.position(tp) >= (consumer.highwater(tp) or 0)
                for tp in partitions
            ):
                return records
        raise TimeoutError("could not read every topic to its end")
    finally:
        consumer.close()
