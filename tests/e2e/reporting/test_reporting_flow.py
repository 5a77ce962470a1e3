"""The reporting service as it runs: a real process on the real broker, SQLite and
PostgreSQL. The known batch gives exactly the hand-computed values; replaying it changes
nothing; a restarted worker recovers its cells and continues; a database rebuilt from the
changelog holds exactly the same cells.

Each database kind gets a topic namespace of its own on the module's broker, so the two runs
(and their changelogs) never see each other.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaProducer
from sqlalchemy import create_engine, select, text

from libs.events import CloudEvent, decode, encode
from libs.events.catalogue.reporting import IndicatorCellUpdated
from libs.events.catalogue.values import PrescriptionCategory
from services.reporting.adapters.schema import IndicatorCell, MemberCount, StationingSpan
from tests.conftest import Suite
from tests.integration.reporting.test_known_batch import KNOWN_VALUES
from tests.support.brokers import (
    BrokerAddress,
    TestBroker,
    credentials_of,
    principal_env,
    provision,
    topic_on,
)
from tests.support.databases import database_url
from tests.support.kafka import read_all, wait_for
from tests.support.reporting import (
    D2,
    SEED_FACILITIES,
    known_batch,
    prescription,
    seed_organisation,
    stationing_started,
)
from tests.support.services import REPO_ROOT, ServiceHandle


def publish(bootstrap: str, events: list[CloudEvent[Any]]) -> None:
    """Send events as their producers would: on their topic, keyed by their aggregate."""
    producer = KafkaProducer(
        bootstrap_servers=bootstrap, acks="all", **credentials_of(bootstrap).client_options()
    )
    try:
        for e in events:
            producer.send(topic_on(bootstrap, e.topic), key=e.key.encode(), value=encode(e))
        producer.flush(timeout=30)
    finally:
        producer.close(timeout=5)


@dataclass
class County:
    bootstrap: BrokerAddress
    suite: Suite
    kind: str
    directory: Path
    stack: ExitStack

    @property
    def reporting(self) -> ServiceHandle:
        return self.suite.started["reporting"]

    def value(self, code: str, level: str, unit: str, kind: str, period: str) -> str | None:
        rows = self.reporting.get_json(
            f"/indicators/{code}", level=level, unit_id=unit, period_kind=kind, period=period
        )["items"]
        return rows[0]["value"] if rows else None

    def values(self) -> dict[tuple[str, str, str, str, str], str | None]:
        return {key: self.value(*key) for key in KNOWN_VALUES}

    def consumed(self, outcome: str) -> float:
        return sum(
            self.reporting.metric(
                "reporting_events_consumed_total", topic=topic, type=type_, outcome=outcome
            )
            for topic, type_ in {(e.topic, e.type) for e in known_batch()}
        )


@pytest.fixture(scope="module")
def county(
    module_broker: TestBroker, module_db_kind: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[County]:
    address = BrokerAddress(
        module_broker.bootstrap_servers,
        f"{module_broker.topic_prefix}{module_db_kind[:2]}.",
        module_broker.bootstrap_servers.secret,
    )
    provision(address)
    directory = tmp_path_factory.mktemp("reporting")
    with ExitStack() as stack:
        suite = Suite(
            address,
            lambda name: stack.enter_context(database_url(module_db_kind, directory, name)),
            directory / "data",
        )
        reporting = suite.start("reporting")["reporting"]
        publish(address, seed_organisation())
        wait_for(
            lambda: len(reporting.get_json("/directory/facilities")) == SEED_FACILITIES,
            what="the reporting service's copy of the seed county",
        )
        yield County(address, suite, module_db_kind, directory, stack)
        suite.stop_all()


def test_the_known_batch_gives_the_hand_computed_values_and_a_replay_changes_nothing(
    county: County,
) -> None:
    batch = known_batch()
    publish(county.bootstrap, batch)
    wait_for(lambda: county.consumed("applied") == len(batch), what="the batch applied")
    assert county.values() == KNOWN_VALUES

    publish(county.bootstrap, batch)  # the same events again (a producer retrying)
    wait_for(lambda: county.consumed("duplicate") == len(batch), what="the copies skipped")
    assert county.consumed("applied") == len(batch)
    assert county.values() == KNOWN_VALUES


def test_a_restarted_worker_recovers_its_cells_and_continues(county: County) -> None:
    wait_for(lambda: county.consumed("applied") >= len(known_batch()), what="the batch")
    county.suite.restart("reporting")
    assert county.values() == KNOWN_VALUES
    # T05's second TCM prescription of the month: the county's November is now 4 of 7.
    publish(county.bootstrap, [prescription("QS-T05", PrescriptionCategory.TCM_PATENT, D2)])
    key = ("tcm_prescription_share", "county", "QS", "month", "2026-11")
    wait_for(lambda: county.value(*key) == "57.14", what="the new prescription counted")
    assert county.value("tcm_prescription_share", "facility", "QS-T05", "month", "2026-11") == (
        "66.67"
    )


def cell_rows(url: str) -> dict[tuple[str, ...], tuple[str, str, int]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {
                (r.indicator, r.level, r.unit_id, r.period_kind, r.period): (
                    str(r.numerator),
                    str(r.denominator),
                    r.version,
                )
                for r in conn.execute(select(IndicatorCell.__table__))
            }
    finally:
        engine.dispose()


def table_rows(url: str, model: Any) -> set[tuple[Any, ...]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {tuple(r) for r in conn.execute(select(model.__table__))}
    finally:
        engine.dispose()


def rebuild(county: County, url: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": str(county.bootstrap),
        "KAFKA_TOPIC_PREFIX": county.bootstrap.topic_prefix,
        **principal_env(county.bootstrap, "reporting"),
        "DATA_DIR": str(county.directory / "rebuild"),
        "LOG_FORMAT": "json",
    }
    return subprocess.run(
        [sys.executable, "-m", "services.reporting", "rebuild", "--database-url", url],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_database_rebuilt_from_the_changelog_holds_exactly_the_same_cells(
    county: County,
) -> None:
    publish(
        county.bootstrap,
        [stationing_started("STN-E2E", "QS-T03", date(2026, 11, 20), date(2026, 12, 10))],
    )
    live = county.reporting.database_url
    wait_for(
        lambda: ("stationed_physicians", "county", "QS", "month", "2026-12") in cell_rows(live),
        what="the stationing counted",
    )

    def changelog_matches() -> bool:
        latest: dict[str, tuple[str, str, int]] = {}
        for record in read_all(county.bootstrap, "reporting.indicator"):
            data = decode(record.value or b"").data
            assert isinstance(data, IndicatorCellUpdated)
            if data.version >= latest.get(data.cell_id, ("", "", 0))[2]:
                latest[data.cell_id] = (str(data.numerator), str(data.denominator), data.version)
        return latest == {":".join(k): v for k, v in cell_rows(live).items()}

    wait_for(changelog_matches, what="every cell's changelog published")
    rebuilt = county.stack.enter_context(
        database_url(county.kind, county.directory, "reporting-rebuilt")
    )
    done = rebuild(county, rebuilt)
    assert done.returncode == 0, done.stderr[-3000:]
    assert cell_rows(rebuilt) == cell_rows(live)
    for model in (MemberCount, StationingSpan):
        assert table_rows(rebuilt, model) == table_rows(live, model)
    engine = create_engine(rebuilt)
    with engine.connect() as conn:
        facilities = conn.execute(text("SELECT count(*) FROM directory_facilities")).scalar()
    engine.dispose()
    assert facilities == SEED_FACILITIES

    again = rebuild(county, rebuilt)  # a database with cells is never overwritten
    assert again.returncode == 2
    assert "refused" in again.stderr
