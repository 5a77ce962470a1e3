"""An event is believed only from the producer the catalogue names, under its subject's key."""

from __future__ import annotations

import pytest

from libs.events import PermanentDecodeError, new_event, registry
from libs.events.catalogue.ingestion import VisitRecorded
from libs.events.catalogue.pharmacy import StockReceived
from libs.events.provenance import check_provenance, producer_source, source_for
from tests.support.samples import sample_payload


def refusal(source: str, payload_type: type, key: bytes | None = None) -> str | None:
    payload = sample_payload(payload_type)
    event = new_event(payload, source=source)
    try:
        check_provenance(event, event.subject.encode() if key is None else key)
    except PermanentDecodeError as exc:
        refused = exc
    else:
        return None
    assert refused.event_id == event.id
    return f"{refused.reason}: {refused.detail}"


def test_every_type_has_one_believable_source_and_its_events_pass() -> None:
    for spec in registry:
        payload = sample_payload(spec.payload)
        event = new_event(payload, source=producer_source(payload))
        check_provenance(event, event.subject.encode())
        assert event.source == source_for(spec.type, event.subject)


@pytest.mark.parametrize(
    "source",
    ["/services/finance", "/services/pharmacy-evil", "/his/QS-T01", "/services/pharmacy/", "/x"],
)
def test_a_stock_receipt_from_anyone_but_pharmacy_is_forged(source: str) -> None:
    found = refusal(source, StockReceived)
    assert found is not None
    assert found.startswith("forged_source: pharmacy.stock.received.v1 is published by")


def test_a_hospital_system_speaks_only_for_its_own_facility() -> None:
    visit = sample_payload(VisitRecorded)
    assert isinstance(visit, VisitRecorded)
    facility = visit.facility_id
    assert refusal(f"/his/{facility}", VisitRecorded) is None
    assert refusal("/his/QS-OTHER", VisitRecorded) is not None
    assert refusal("/services/finance", VisitRecorded) is not None


def test_a_record_keyed_other_than_its_subject_is_forged() -> None:
    found = refusal("/services/pharmacy", StockReceived, key=b"QS-SOMEWHERE-ELSE")
    assert found is not None and "record key 'QS-SOMEWHERE-ELSE' is not" in found
    assert refusal("/services/pharmacy", StockReceived, key=b"") is not None
