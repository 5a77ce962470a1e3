"""One real flow through the backbone, with real processes, broker and databases.

HTTP on staffing → state and outbox row in one transaction → relay → pharmacy and reporting
consume idempotently and change their own state → reporting counts it. On the Kafka
cluster: the embedded broker carries the same flow in the launcher's test (a simulated day
under `make run`), and its exactly-once and dead-letter paths have tests of their own.
"""

from __future__ import annotations

import signal

import httpx
import pytest

from libs.events.codec import decode
from libs.platform.auth import Role
from tests.conftest import Suite
from tests.support.brokers import TestBroker
from tests.support.kafka import read_all, wait_for

SEED_FACILITIES = 23  # infra/county/seed-county.yaml
NEW = {
    "facility_id": "QS-T11",
    "name": "青峰镇卫生院",
    "community_id": "QS-MC1",
    "tier": "primary",
    "facility_type": "township_centre",
    "departments": [
        {"department_id": "QS-T11-GP", "name": "全科", "specialty": "general practice"}
    ],
}


def members(reporting, community: str = "QS-MC1", tier: str = "primary") -> int:
    return int(reporting.metric("reporting_member_facilities", community=community, tier=tier))


@pytest.mark.parametrize("broker", ["kafka"], indirect=True)
def test_a_facility_registered_over_http_reaches_every_consumer_once(
    suite: Suite, broker: TestBroker
) -> None:
    running = suite.start("administration", "staffing", "pharmacy", "reporting")
    administration, staffing, pharmacy, reporting = (
        running[n] for n in ("administration", "staffing", "pharmacy", "reporting")
    )

    for service in running.values():
        assert httpx.get(f"{service.url}/healthz").json()["status"] == "alive"
        ready = httpx.get(f"{service.url}/readyz").json()
        assert ready["checks"] == {"database": "ok", "broker": "ok", "consumers": "ok"}
        metrics = service.metrics()
        for name in ("outbox_pending", "outbox_oldest_age_seconds", "http_requests_total"):
            assert f"{service.name}_{name}" in metrics

    # Administration published the seed county at start; each consumer has its own copy.
    wait_for(
        lambda: len(pharmacy.get_json("/directory/facilities")) == SEED_FACILITIES,
        what="pharmacy's copy of the seed county",
    )
    wait_for(
        lambda: (
            sum(r["members"] for r in reporting.get_json("/indicators/member-facilities"))
            == SEED_FACILITIES
        ),
        what="reporting's member counts",
    )
    before = members(reporting)

    with administration.client(Role.CLINIC_STAFF, "QS-T01") as clinic:
        assert clinic.post("/organisation/facilities", json=NEW).status_code == 403
    url = f"{administration.url}/organisation/facilities"
    assert httpx.post(url, json=NEW).status_code == 401
    with administration.client(Role.COUNTY_ADMIN) as admin:
        created = admin.post(
            "/organisation/facilities", json=NEW, headers={"X-Correlation-ID": "req-e2e-1"}
        )
        assert created.status_code == 201, created.text
        assert admin.post("/organisation/facilities", json=NEW).status_code == 409

    copy = wait_for(
        lambda: _get_or_none(pharmacy, "/directory/facilities/QS-T11"),
        what="pharmacy's copy of the new facility",
    )
    assert copy["tier"] == "primary"
    assert copy["departments"][0]["name"] == "全科"
    wait_for(lambda: members(reporting) == before + 1, what="reporting's count")
    wait_for(  # staffing's own copy: the new township hosts expert sessions
        lambda: str(NEW["name"]) in httpx.get(f"{staffing.url}/public/timetable").text,
        what="staffing's copy of the new facility",
    )

    # The event on the wire carries the caller's correlation id; it was published once.
    events = [decode(r.value) for r in read_all(suite.bootstrap, "organisation.facility")]
    new = [e for e in events if e.subject == "QS-T11"]
    assert len(new) == 1
    assert new[0].correlation_id == "req-e2e-1"
    assert new[0].source == "/services/administration"
    assert (
        reporting.metric(
            "reporting_events_consumed_total",
            outcome="applied",
            topic="organisation.facility",
            type="organisation.facility.registered.v1",
        )
        == SEED_FACILITIES + 1
    )
    assert staffing.metric("staffing_outbox_pending") == 0

    if broker.is_embedded:  # readiness follows the broker, even for an idle service
        broker.stop()
        wait_for(
            lambda: httpx.get(f"{pharmacy.url}/readyz").status_code == 503,
            what="pharmacy to report the broker gone",
        )
        checks = httpx.get(f"{pharmacy.url}/readyz").json()["checks"]
        assert checks["broker"].startswith("broker unreachable")
        assert checks["database"] == "ok"
        for service in running.values():  # a worker cut off from its broker cannot stop cleanly
            service.stop(signal.SIGKILL)


def _get_or_none(service, path: str):
    with service.client() as client:
        response = client.get(path)
    return response.json() if response.status_code == 200 else None
