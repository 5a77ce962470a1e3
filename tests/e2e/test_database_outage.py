"""A database outage under a running worker: it pauses (not ready, nothing acknowledged),
keeps its process, and when the database is back applies every event exactly once, skipping
none. The outage is a cut TCP proxy between the finance service and PostgreSQL: every open
connection reset, new ones refused, as when the database host goes away.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import make_url

from libs.events import decode, encode
from tests.support import finance as f
from tests.support.brokers import TestBroker
from tests.support.databases import postgres_database, require_postgres
from tests.support.harness import event_of
from tests.support.kafka import produce, read_all, wait_for
from tests.support.services import ServiceHandle, start_service
from tests.support.tcp_proxy import TcpProxy

pytestmark = pytest.mark.e2e

SEED_FACILITIES = 23


@pytest.fixture
def finance_behind_proxy(
    broker: TestBroker, tmp_path: Path
) -> Iterator[tuple[ServiceHandle, TcpProxy]]:
    require_postgres()
    with postgres_database("mc_outage") as url:
        real = make_url(url)
        proxy = TcpProxy((real.host or "127.0.0.1", real.port or 5432))
        through = real.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        service = start_service(
            "finance",
            bootstrap=broker.bootstrap_servers,
            database_url=through,
            data_dir=tmp_path / "data",
        )
        try:
            yield service, proxy
        finally:
            service.stop()
            proxy.close()


def send_visits(bootstrap: str, count: int) -> set[str]:
    events = [event_of(f.visit("QS-T01", eligible="50.00")) for _ in range(count)]
    for event in events:
        produce(bootstrap, event.topic, [encode(event)], key=event.key.encode())
    return {event.data.visit_id for event in events}


def claims_for(bootstrap: str, visits: set[str]) -> dict[str, set[str]]:
    """Visit → the ids of the claim events valuing it. The relay publishes at least once (a
    record published just before the database went away is published again after), so a
    claim can be on the topic twice, always with the same event id; a second effect would
    be a second id."""
    found: dict[str, set[str]] = {}
    for record in read_all(bootstrap, "finance.claim"):
        if record.value:
            event: Any = decode(record.value)
            if event.data.visit_id in visits:
                found.setdefault(event.data.visit_id, set()).add(event.id)
    return found


def readiness(service: ServiceHandle) -> tuple[int, dict[str, Any]]:
    response = httpx.get(f"{service.url}/readyz", timeout=5)
    return response.status_code, response.json()


def test_a_worker_pauses_through_a_database_outage_and_resumes_without_skipping(
    finance_behind_proxy: tuple[ServiceHandle, TcpProxy], broker: TestBroker
) -> None:
    finance, proxy = finance_behind_proxy
    bootstrap = broker.bootstrap_servers
    for event in f.organisation_events():
        produce(bootstrap, event.topic, [encode(event)], key=event.key.encode())
    wait_for(
        lambda: len(finance.get_json("/directory/facilities")) == SEED_FACILITIES,
        what="finance's copy of the seed county",
    )
    before = send_visits(bootstrap, 10)
    wait_for(lambda: len(claims_for(bootstrap, before)) == 10, what="the first visits valued")

    proxy.cut()
    during = send_visits(bootstrap, 15)
    wait_for(lambda: readiness(finance)[0] == 503, what="the service to report itself not ready")
    _, body = readiness(finance)
    assert "database" in str(body)
    wait_for(
        lambda: finance.metric("finance_consume_retries_total") > 0,
        what="the batch retried, not skipped",
    )
    assert finance.process.poll() is None, "the worker must pause, not exit"
    assert httpx.get(f"{finance.url}/healthz", timeout=5).status_code == 200
    assert claims_for(bootstrap, during) == {}  # nothing applied, so nothing published

    proxy.restore()
    after = send_visits(bootstrap, 5)
    wait_for(lambda: readiness(finance)[0] == 200, what="the service ready again")
    everything = before | during | after
    claims = wait_for(
        lambda: (found := claims_for(bootstrap, everything)) and len(found) == 30 and found,
        what="every visit valued after the outage",
    )
    assert {visit: len(ids) for visit, ids in claims.items()} == dict.fromkeys(everything, 1)
    assert read_all(bootstrap, "ingestion.visit.dlt", timeout_s=2) == []
    assert finance.process.poll() is None
