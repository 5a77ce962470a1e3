"""A corpus of malformed and hostile records for the ingestion topics, each with the reason
a consumer must dead-letter it for."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from libs.events import encode, new_event
from libs.events.catalogue.ingestion import PrescriptionIssued, PrescriptionLine, VisitRecorded
from libs.events.catalogue.values import (
    FacilityTier,
    InsuranceType,
    PrescriptionCategory,
    VisitType,
)
from libs.events.codec import MAX_EVENT_BYTES
from libs.events.envelope import utc_now
from libs.events.pseudonym import DEVELOPMENT_PSEUDONYM_SECRET, pseudonymise

VISITS, PRESCRIPTIONS = "ingestion.visit", "ingestion.prescription"
FACILITY, DRUG = "QS-T01", "QSY-W011"  # a township centre and amlodipine, both known
#: Which service validates what beyond the schema.
VALIDATOR = {VISITS: "finance", PRESCRIPTIONS: "pharmacy"}
#: A record the brokers take (message.max.bytes 1,048,588) with a little room for framing.
JUST_UNDER_BROKER_LIMIT = 1_040_000

INJECTIONS = [
    "'; DROP TABLE visits; --",
    '" OR "1"="1',
    "<script>alert(1)</script>",
    "../../etc/passwd",
    "${jndi:ldap://x/a}",
    "{{7*7}}",
    "%00",
    "\u0000null",
    "\u202eevil",
    "A" * 65,
    "QS-T01\nINJECTED",
    "QS T01",
    "張三 110101199003074518",
    "$(rm -rf /)",
    "`id`",
    "\\\\server\\share",
    "%s%s%s%n",
    "../",
    "<img src=x onerror=alert(1)>",
    "\r\nSet-Cookie: x=1",
]


@dataclass(frozen=True)
class Hostile:
    name: str
    topic: str
    value: bytes | None
    reason: str
    """The reason the topic's validating consumer dead-letters it for."""
    decodable: bool = False
    """True when only the business check (not the schema) refuses it."""


def visit(n: int, **changes: Any) -> VisitRecorded:
    fields: dict[str, Any] = {
        "visit_id": f"HV-{n:05d}",
        "facility_id": FACILITY,
        "facility_tier": FacilityTier.PRIMARY,
        "patient_pseudonym": pseudonymise(f"32041219580314{n:04d}", DEVELOPMENT_PSEUDONYM_SECRET),
        "insurance_type": InsuranceType.URBAN_RURAL_RESIDENT,
        "visit_type": VisitType.OUTPATIENT,
        "total_amount": Decimal("80.00"),
        "eligible_amount": Decimal("60.00"),
        "occurred_at": utc_now() - timedelta(minutes=30),
    }
    return VisitRecorded(**(fields | changes))


def prescription(n: int, **changes: Any) -> PrescriptionIssued:
    fields: dict[str, Any] = {
        "prescription_id": f"HP-{n:05d}",
        "facility_id": FACILITY,
        "facility_tier": FacilityTier.PRIMARY,
        "patient_pseudonym": pseudonymise(f"32041219580314{n:04d}", DEVELOPMENT_PSEUDONYM_SECRET),
        "category": PrescriptionCategory.WESTERN,
        "lines": [PrescriptionLine(line_no=1, drug_code=DRUG, quantity=1)],
        "total_amount": Decimal("4.90"),
        "issued_at": utc_now() - timedelta(minutes=30),
    }
    return PrescriptionIssued(**(fields | changes))


def valid(topic: str, n: int) -> bytes:
    payload = visit(n) if topic == VISITS else prescription(n)
    return encode(new_event(payload, source="/his/QS-T01"))


def _body(topic: str, n: int) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(valid(topic, n))
    return body


def _dump(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


def corpus(seed: int = 7) -> Iterator[Hostile]:
    """About 230 records, every one of which must be dead-lettered."""
    rng = random.Random(seed)
    n = 1000
    for topic in (VISITS, PRESCRIPTIONS):
        whole = valid(topic, n)
        # Truncated JSON, cut anywhere.
        for cut in sorted(rng.sample(range(1, len(whole) - 1), 18)):
            yield Hostile(f"truncated at {cut}", topic, whole[:cut], "bad_json")
        # Not JSON at all, or JSON that is not an event object.
        for i, junk in enumerate(
            [
                b"",
                b"\x00\xff\xfe",
                rng.randbytes(64),
                "不是JSON".encode(),
                b"nul\x00l",
                b"{" * 100_000,
                b'{"a": NaN',
            ]
        ):
            yield Hostile(f"not json #{i}", topic, junk, "bad_json")
        # Parser limits: a number too long for int() makes json raise a bare ValueError,
        # which once escaped the consumer and crash-looped it.
        body = _body(topic, n)
        poison = _dump(body | {"id": "POISON"}).replace(b'"POISON"', b"9" * 5000)
        yield Hostile("5,000-digit id", topic, poison, "bad_json")
        # Other encodings of an empty object: JSON, but no event.
        for i, junk in enumerate(["{}".encode("utf-16"), b"\xef\xbb\xbf{}"]):
            yield Hostile(f"not utf-8 #{i}", topic, junk, "bad_envelope")
        yield Hostile("tombstone", topic, None, "bad_json")
        for i, shape in enumerate(["[1, 2]", "42", '"event"', "null", "true", "{}"]):
            yield Hostile(f"not an event #{i}", topic, shape.encode(), "bad_envelope")
        # Broken envelopes.
        for attr, value in [
            ("specversion", "0.3"),
            ("specversion", "2.0"),
            ("id", 12345),
            ("id", ""),
            ("time", "yesterday"),
            ("time", "2026-01-01T00:00:00"),
            ("subject", None),
            ("data", "{}"),
            ("data", [1]),
            ("correlationid", None),
            ("source", "x" * 201),
        ]:
            body = _body(topic, n)
            body[attr] = value
            yield Hostile(
                f"envelope {attr}={str(value)[:20]!r}", topic, _dump(body), "bad_envelope"
            )
        body = _body(topic, n)
        del body["type"]
        yield Hostile("no type", topic, _dump(body), "bad_envelope")
        # Unknown types and wrong versions.
        name = "visit.recorded" if topic == VISITS else "prescription.issued"
        for bad in [
            f"ingestion.{name}.v9",  # a version nobody has published yet
            f"ingestion.{name}.v0",
            f"ingestion.{name}",
            "ingestion.visit.deleted.v1",
            "pharmacy.stock.stolen.v1",
            "x" * 90,
            f"INGESTION.{name.upper()}.V1",
            "'; DROP TABLE processed_events; --",
        ]:
            body = _body(topic, n)
            body["type"] = bad
            yield Hostile(f"type {bad[:30]!r}", topic, _dump(body), "unknown_type")
        # An event of another topic's type.
        other = PRESCRIPTIONS if topic == VISITS else VISITS
        yield Hostile("wrong topic", topic, valid(other, n), "wrong_topic")
        # Wrong types and impossible values in the payload.
        id_field = "visit_id" if topic == VISITS else "prescription_id"
        for field, value in [
            (id_field, 7),
            (id_field, None),
            (id_field, ["a"]),
            ("facility_tier", "quaternary"),
            ("patient_pseudonym", "张三"),
            ("patient_pseudonym", "a" * 63),
            ("total_amount", {"yuan": 1}),
            ("total_amount", "-1.00"),
            ("total_amount", "1e999"),
            ("total_amount", "0.001"),
            ("total_amount", True),
        ]:
            body = _body(topic, n)
            body["data"][field] = value
            yield Hostile(f"{field}={str(value)[:16]!r}", topic, _dump(body), "schema_violation")
        if topic == VISITS:
            for field, value in [
                ("eligible_amount", "999.00"),
                ("visit_type", "teleport"),
                ("insurance_type", 3),
                ("diagnosis_codes", ["I21.9"] * 21),
                ("diagnosis_codes", ["not-a-code"]),
                ("occurred_at", "noon"),
            ]:
                body = _body(topic, n)
                body["data"][field] = value
                yield Hostile(
                    f"{field}={str(value)[:16]!r}", topic, _dump(body), "schema_violation"
                )
        else:
            for lines in [
                [],
                {"line_no": 1},
                [{"line_no": 1, "drug_code": DRUG, "quantity": 0}],
                [{"line_no": 1, "drug_code": DRUG, "quantity": "many"}],
                [{"line_no": 1, "drug_code": DRUG, "quantity": 1}] * 2,
                [{"line_no": i, "drug_code": DRUG, "quantity": 1} for i in range(1, 60)],
                [{"line_no": 1, "drug_code": "x" * 65, "quantity": 1}],
            ]:
                body = _body(topic, n)
                body["data"]["lines"] = lines
                yield Hostile(f"lines {str(lines)[:24]!r}", topic, _dump(body), "schema_violation")
        # Injection strings where identifiers go.
        for text in INJECTIONS:
            body = _body(topic, n)
            body["data"]["facility_id"] = text
            yield Hostile(
                f"injected facility {text[:16]!r}", topic, _dump(body), "schema_violation"
            )
        # Huge: a field beyond its limit, and a record beyond the size limit.
        body = _body(topic, n)
        body["data"]["department_id"] = "D" * 10_000
        yield Hostile("huge field", topic, _dump(body), "schema_violation")
        body = _body(topic, n)
        body["data"]["padding"] = "x" * (MAX_EVENT_BYTES + 10)
        yield Hostile("huge record", topic, _dump(body), "oversized")
        # Just under the broker's limit: its dead letter cannot carry it, only name it.
        body["data"]["padding"] = "x" * (
            JUST_UNDER_BROKER_LIMIT - len(_dump(body)) + len(body["data"]["padding"])
        )
        yield Hostile("record at the broker's limit", topic, _dump(body), "oversized")
        # Dated in the future, by the fact or by the envelope.
        later = utc_now() + timedelta(days=2)
        payload: Any = (
            visit(n, occurred_at=later) if topic == VISITS else prescription(n, issued_at=later)
        )
        yield Hostile(
            "future fact", topic, encode(new_event(payload, source="/his/QS-T01")), "future_dated"
        )
        body = _body(topic, n)
        body["time"] = later.isoformat()
        yield Hostile("future envelope", topic, _dump(body), "future_dated")
        # Well-formed, but naming what the community does not have.
        for i in range(5):
            payload = (
                visit(n + i, facility_id=f"QS-X{i:02d}")
                if topic == VISITS
                else prescription(n + i, facility_id=f"QS-X{i:02d}")
            )
            yield Hostile(
                f"unknown facility #{i}",
                topic,
                encode(new_event(payload, source=f"/his/QS-X{i:02d}")),
                "unknown_facility",
                decodable=True,
            )
        if topic == PRESCRIPTIONS:
            for i in range(5):
                payload = prescription(
                    n + 10 + i,
                    lines=[PrescriptionLine(line_no=1, drug_code=f"QSY-NOPE{i}", quantity=1)],
                )
                yield Hostile(
                    f"unknown drug #{i}",
                    topic,
                    encode(new_event(payload, source="/his/QS-T01")),
                    "unknown_drug",
                    decodable=True,
                )
