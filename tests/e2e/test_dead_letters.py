"""Malformed records go to the dead-letter topic with their reason; consumers keep going;
a fixed dead letter, replayed with the CLI, is applied once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from libs.events import encode
from tests.conftest import Suite
from tests.support.brokers import credentials_of, prefix_of
from tests.support.delivery import event, facility
from tests.support.kafka import produce, wait_for
from tests.support.services import REPO_ROOT

TOPIC = "organisation.facility"


def cli(bootstrap: str, *args: str) -> list[dict]:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "libs.events.deadletters",
            "--bootstrap-servers",
            bootstrap,
            "--prefix",
            prefix_of(bootstrap),
            *args,
        ],
        cwd=REPO_ROOT,
        env={**os.environ, **credentials_of(bootstrap).environment()},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


def joined(reporting) -> int:
    return int(reporting.metric("reporting_member_facilities", community="QS-MC1", tier="primary"))


@pytest.mark.parametrize("broker", ["kafka", "tansu"], indirect=True)
def test_malformed_records_are_dead_lettered_and_a_fixed_one_replays_once(
    suite: Suite, tmp_path: Path
) -> None:
    running = suite.start("pharmacy", "reporting")
    pharmacy, reporting = running["pharmacy"], running["reporting"]

    broken = event(facility(2))
    body = json.loads(encode(broken))
    body["data"]["tier"] = "quaternary"  # a schema violation
    unknown = json.loads(encode(event(facility(9))))
    unknown["type"] = "organisation.facility.teleported.v1"
    produce(
        suite.bootstrap,
        TOPIC,
        [
            encode(event(facility(1))),
            b'{"specversion": "1.0", "id": "trunc',
            json.dumps(body).encode(),
            json.dumps(unknown).encode(),
            encode(event(facility(3))),
        ],
    )
    wait_for(lambda: joined(reporting) == 2, what="the valid records around the broken ones")

    letters = wait_for(
        lambda: len(found := cli(suite.bootstrap, "list", "--topic", TOPIC)) == 6 and found,
        what="three dead letters from each of two consumers",
    )
    by_consumer: dict[str, list[str]] = {}
    for letter in letters:
        by_consumer.setdefault(letter["consumer"], []).append(letter["reason"])
        assert letter["origin"].startswith(f"{TOPIC}/0/")
        assert letter["time"]
        assert letter["detail"]
    assert by_consumer == {
        name: ["bad_json", "schema_violation", "unknown_type"] for name in ("pharmacy", "reporting")
    }

    # The consumers kept going.
    produce(suite.bootstrap, TOPIC, [encode(event(facility(4)))])
    wait_for(lambda: joined(reporting) == 3, what="a record after the dead letters")
    assert pharmacy.ready()
    assert reporting.ready()

    # Fix the schema violation and replay reporting's letter, twice: applied once.
    (letter,) = [
        d for d in letters if d["consumer"] == "reporting" and d["reason"] == "schema_violation"
    ]
    dlt_topic, partition, offset = letter["position"].rsplit("/", 2)
    fixed = tmp_path / "fixed.json"
    body["data"]["tier"] = "primary"
    fixed.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
    for _ in range(2):
        cli(
            suite.bootstrap,
            "replay",
            "--dlt-topic",
            dlt_topic,
            "--partition",
            partition,
            "--offset",
            offset,
            "--value-file",
            str(fixed),
        )
    wait_for(
        lambda: (
            reporting.metric(
                "reporting_events_consumed_total",
                outcome="duplicate",
                topic=TOPIC,
                type="organisation.facility.registered.v1",
            )
            >= 1
        ),
        what="the second replay to be skipped",
    )
    assert joined(reporting) == 4
    wait_for(
        lambda: pharmacy.get_json("/directory/facilities/F-002")["tier"] == "primary",
        what="pharmacy to apply the fixed record too",
    )
    # No new dead letters came of the replays.
    assert len(cli(suite.bootstrap, "list", "--topic", TOPIC)) == 6
