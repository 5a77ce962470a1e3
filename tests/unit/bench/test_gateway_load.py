"""The gateway benchmark's pure helpers (bench/gateway.py): the systems file it writes is one
the gateway reads, its requests carry what they claim, and answers are counted right."""

from __future__ import annotations

import json

from bench.county import Facility
from bench.gateway import Facts, accepted_in, calls, systems_document
from libs.events.catalogue.values import FacilityTier
from services.gateway.config import parse_systems
from services.gateway.domain.fhir_bundle import translate_bundle
from services.gateway.domain.fhir_profile import FhirProfile

SITES = [Facility("QS-T01", FacilityTier.PRIMARY), Facility("QS-T02", FacilityTier.PRIMARY)]


def test_the_systems_file_is_one_the_gateway_reads() -> None:
    (first, second) = parse_systems(systems_document(SITES))
    assert (first.facility_id, second.facility_id) == ("QS-T01", "QS-T02")
    assert first.requests_per_minute >= 1_000_000 and first.burst >= 10_000


def test_each_way_in_carries_the_messages_it_claims_with_fresh_ids() -> None:
    facts = Facts()
    single = calls("single", facts, SITES, 6, 1)
    batch = calls("batch", facts, SITES, 200, 100)
    assert [c.messages for c in single] == [1] * 6 and [c.messages for c in batch] == [100, 100]
    ids = [json.loads(c.body)["message_id"] for c in single]
    ids += [m["message_id"] for c in batch for m in json.loads(c.body)["messages"]]
    assert len(ids) == len(set(ids)) == 206
    assert {c.headers["Authorization"] for c in single} != {single[0].headers["Authorization"]}


def test_a_fhir_bundle_translates_to_its_messages_without_a_problem() -> None:
    (bundle,) = calls("fhir", Facts(), SITES, 50, 50)
    translation = translate_bundle(json.loads(bundle.body), FhirProfile())
    assert not translation.problems and bundle.messages == 50
    assert len(translation.units) == 50 and all(u.message for u in translation.units)


def test_answers_are_counted_by_what_they_accepted() -> None:
    assert accepted_in("/messages", 202, b"{}") == 1
    assert accepted_in("/messages", 409, b"{}") == 0
    assert accepted_in("/messages/batch", 207, b'{"accepted": 3, "refused": 1}') == 3
    line = {"response": {"status": "202 Accepted", "etag": 'W/"e-1"'}}  # each line of one fact
    fhir = {"entry": [{"response": {"status": "200 OK"}}, line, line,
                      {"response": {"status": "202 Accepted", "etag": 'W/"e-2"'}},
                      {"response": {"status": "422 Unprocessable Entity"}}]}  # fmt: skip
    assert accepted_in("/fhir", 200, json.dumps(fhir).encode()) == 2
    assert accepted_in("/fhir", 400, b"{}") == 0
