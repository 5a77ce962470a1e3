"""The envelope, its constructor, and validating (de)serialisation."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from libs.events import PermanentDecodeError, decode, encode, new_event, registry
from libs.events.catalogue.ingestion import VisitRecorded
from libs.events.catalogue.organisation import FacilityRegistered
from libs.events.catalogue.values import FacilityTier, InsuranceType, VisitType
from libs.events.codec import MAX_EVENT_BYTES
from tests.support.samples import PSEUDONYM, WHEN, sample_payload


def visit(**changes: object) -> VisitRecorded:
    fields: dict[str, object] = {
        "visit_id": "V-1",
        "facility_id": "QS-T01",
        "facility_tier": FacilityTier.PRIMARY,
        "patient_pseudonym": PSEUDONYM,
        "insurance_type": InsuranceType.URBAN_RURAL_RESIDENT,
        "visit_type": VisitType.OUTPATIENT,
        "total_amount": Decimal("120.50"),
        "eligible_amount": Decimal("100.10"),
        "occurred_at": WHEN,
    }
    fields.update(changes)
    return VisitRecorded(**fields)


def test_the_constructor_takes_type_topic_and_subject_from_the_registry() -> None:
    event = new_event(visit(), source="/his/QS-T01")
    assert event.type == "ingestion.visit.recorded.v1"
    assert event.topic == "ingestion.visit"
    assert event.subject == event.key == "QS-T01"
    assert event.specversion == "1.0"
    assert event.time.tzinfo is not None
    # A root event is its own cause and starts its own correlation.
    assert event.causation_id == event.id == event.correlation_id


def test_an_event_caused_by_another_inherits_its_correlation_and_names_its_cause() -> None:
    cause = new_event(visit(), source="/his/QS-T01", correlation_id="req-42")
    effect = new_event(
        sample_payload(FacilityRegistered), source="/services/staffing", caused_by=cause
    )
    assert cause.correlation_id == "req-42"
    assert effect.correlation_id == "req-42"
    assert effect.causation_id == cause.id


def test_every_catalogue_type_round_trips_through_json() -> None:
    for spec in registry:
        event = new_event(sample_payload(spec.payload), source=f"/services/{spec.producer}")
        decoded = decode(encode(event), topic=spec.topic)
        assert decoded == event, spec.type


def test_money_travels_as_an_exact_decimal_string() -> None:
    body = json.loads(encode(new_event(visit(), source="/his/QS-T01")))
    assert body["data"]["total_amount"] == "120.50"
    assert body["datacontenttype"] == "application/json"
    assert set(body) >= {
        "id",
        "source",
        "specversion",
        "type",
        "time",
        "subject",
        "correlationid",
        "causationid",
        "data",
    }
    # A producer that sends a JSON number still decodes exactly (no float on the way).
    body["data"]["total_amount"] = "0.30"
    body["data"]["eligible_amount"] = "0.10"
    raw = json.dumps(body).replace('"0.30"', "0.30").replace('"0.10"', "0.10").encode()
    data = decode(raw).data
    assert data.total_amount - data.eligible_amount == Decimal("0.20")  # type: ignore[attr-defined]


def test_producers_cannot_send_unknown_fields_but_consumers_ignore_them() -> None:
    with pytest.raises(ValueError, match="extra"):
        visit(surname="张")
    body = json.loads(encode(new_event(visit(), source="/his/QS-T01")))
    body["data"]["added_in_a_later_version"] = 1
    assert decode(json.dumps(body).encode()).data == visit()


def test_a_name_can_never_pass_as_a_patient_pseudonym() -> None:
    with pytest.raises(ValueError, match="pattern"):
        visit(patient_pseudonym="Zhang San 110101199003074518")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b'{"specversion": "1.0", "id": ', "bad_json"),
        (b"\xff\xfe not utf-8", "bad_json"),
        (None, "bad_json"),
        (b"[1, 2, 3]", "bad_envelope"),
        (b'{"specversion": "0.3", "id": "x"}', "bad_envelope"),
        (b"x" * (MAX_EVENT_BYTES + 1), "oversized"),
    ],
)
def test_unusable_records_raise_a_permanent_error_with_a_reason(
    raw: bytes | None, reason: str
) -> None:
    with pytest.raises(PermanentDecodeError) as caught:
        decode(raw)
    assert caught.value.reason == reason


def _envelope(**changes: object) -> bytes:
    body = json.loads(encode(new_event(visit(), source="/his/QS-T01")))
    body.update(changes)
    return json.dumps(body).encode()


def test_an_unknown_type_or_version_is_refused() -> None:
    with pytest.raises(PermanentDecodeError) as caught:
        decode(_envelope(type="ingestion.visit.recorded.v9"))
    assert caught.value.reason == "unknown_type"
    assert caught.value.event_type == "ingestion.visit.recorded.v9"


def test_an_event_on_the_wrong_topic_is_refused() -> None:
    with pytest.raises(PermanentDecodeError) as caught:
        decode(_envelope(), topic="ingestion.prescription")
    assert caught.value.reason == "wrong_topic"


def test_a_schema_violation_names_the_field_but_never_echoes_its_value() -> None:
    body = json.loads(_envelope())
    body["data"]["eligible_amount"] = "not money: 张三"
    with pytest.raises(PermanentDecodeError) as caught:
        decode(json.dumps(body).encode())
    assert caught.value.reason == "schema_violation"
    assert "eligible_amount" in caught.value.detail
    assert "张三" not in caught.value.detail
    assert caught.value.event_id == body["id"]


def test_cross_field_rules_are_part_of_the_schema() -> None:
    with pytest.raises(ValueError, match="eligible_amount cannot exceed"):
        visit(eligible_amount=Decimal("500.00"))


def test_an_event_from_the_future_is_refused_at_the_edge() -> None:
    from datetime import timedelta

    from libs.events.envelope import utc_now

    soon = utc_now() + timedelta(minutes=2)  # within the clock skew producers are allowed
    assert decode(encode(new_event(visit(occurred_at=soon), source="/his/QS-T01")))
    later = utc_now() + timedelta(hours=2)
    for event in (
        new_event(visit(occurred_at=later), source="/his/QS-T01"),
        new_event(visit(), source="/his/QS-T01", time=later),
    ):
        with pytest.raises(PermanentDecodeError) as caught:
            decode(encode(event))
        assert caught.value.reason == "future_dated"
        assert caught.value.event_id == event.id
