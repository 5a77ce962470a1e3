"""The hostile-input corpus (tests/support/hostile.py), sent to the gateway's API instead of
the topics: as raw bodies of every ingestion endpoint, and as the catalogue's messages whose
payload is the hostile one. No answer is a server error; what the consumers would refuse for
its schema the gateway refuses at the door; nothing refused is published."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from tests.support.gateway import FHIR_SYSTEM, basic, national_id
from tests.support.hostile import Hostile, corpus

ENDPOINTS = ("/messages", "/messages/batch", "/fhir")


def as_message(index: int, hostile: Hostile) -> dict[str, Any] | None:
    """The hostile record's payload as a member's JSON message, or None if it has none."""
    try:
        body = json.loads(hostile.value or b"")
    except (ValueError, RecursionError):
        return None
    if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
        return None
    data = dict(body["data"])
    if "patient_pseudonym" in data and hostile.name.split("=")[0] != "patient_pseudonym":
        data.pop("patient_pseudonym")
        data["patient_national_id"] = national_id(index)
    return {"message_id": f"H-{index}", "type": body.get("type"), "data": data}


def test_the_corpus_gets_no_server_error_and_publishes_only_what_is_valid(gateway) -> None:
    client, harness = gateway
    headers = basic(FHIR_SYSTEM)
    statuses: Counter[int] = Counter()
    problems = []
    for index, hostile in enumerate(corpus()):
        raw = hostile.value or b""
        for endpoint in ENDPOINTS:
            answer = client.post(
                endpoint, content=raw, headers={**headers, "Content-Type": "application/json"}
            )
            statuses[answer.status_code] += 1
            if not 400 <= answer.status_code < 500:
                problems.append(f"raw {hostile.name} to {endpoint} → {answer.status_code}")
        message = as_message(index, hostile)
        if message is None:
            continue
        answer = client.post("/messages", json=message, headers=headers)
        statuses[answer.status_code] += 1
        if answer.status_code >= 500:
            problems.append(f"{hostile.name} → {answer.status_code}: {answer.text[:200]}")
        elif hostile.reason == "schema_violation" and answer.status_code < 400:
            problems.append(f"{hostile.name} was accepted: {answer.text[:200]}")
    assert not problems, "\n".join(problems[:20])
    assert statuses[422] > 50, statuses
    published = harness.published()
    ingestion = [e for e in published if e.type.startswith("ingestion.")]
    assert len(ingestion) == statuses[202], (len(ingestion), statuses)
    for event in ingestion:
        assert event.source == "/his/QS-T01"
