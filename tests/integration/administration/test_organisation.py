"""The organisation administration owns: taken over from what staffing published, then
joined, changed, merged and closed through the admin API, every change announced once."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from libs.events import encode, new_event
from libs.events.catalogue.organisation import FacilityRegistered
from libs.platform.auth import Role
from libs.platform.worker import ServiceProcess
from services.administration.service_layer.handover import take_over
from services.administration.service_layer.organisation import sync_county
from tests.integration.administration.conftest import as_, seed_county
from tests.support.harness import HandlerHarness

STAFFING = "/services/staffing"
JOINED_BY_API = {
    "facility_id": "QS-C09",
    "name": "青山县北门社区卫生服务中心",
    "community_id": "QS-MC1",
    "county_code": "QS",
    "tier": "primary",
    "facility_type": "community_centre",
}


def _published_by_staffing() -> list[tuple[str, bytes | None, bytes | None]]:
    """What the previous version (staffing as the owner) left on the organisation topics:
    the seed county, and a member registered through staffing's API."""
    county = seed_county()
    payloads: list[Any] = [*county.communities]
    payloads += [FacilityRegistered(**f.model_dump()) for f in county.facilities]
    payloads.append(FacilityRegistered(**JOINED_BY_API))
    records: list[tuple[str, bytes | None, bytes | None]] = []
    for payload in payloads:
        event = new_event(payload, source=STAFFING)
        records.append((event.topic, event.subject.encode(), encode(event)))
    return records


def test_the_first_start_takes_over_what_staffing_published_and_announces_nothing_again(
    fresh: tuple[ServiceProcess, HandlerHarness],
) -> None:
    process, harness = fresh
    taken = take_over(process.unit_of_work(), _published_by_staffing())
    assert taken is not None and taken.facilities == len(seed_county().facilities) + 1
    assert sync_county(process.unit_of_work(), seed_county()) == []
    assert harness.published() == []
    assert take_over(process.unit_of_work(), _published_by_staffing()) is None  # once
    with TestClient(process.admin_app()) as client:
        ids = {
            f["facility_id"]
            for f in client.get("/organisation/facilities", headers=as_(process, Role.HR)).json()
        }
    assert "QS-C09" in ids and "QS-T01" in ids


def test_a_record_that_fails_the_consumers_checks_is_not_adopted(
    fresh: tuple[ServiceProcess, HandlerHarness],
) -> None:
    process, _ = fresh
    forged = new_event(FacilityRegistered(**JOINED_BY_API), source="/services/pharmacy")
    taken = take_over(
        process.unit_of_work(), [(forged.topic, forged.subject.encode(), encode(forged))]
    )
    assert taken is not None and taken.facilities == 0


def test_members_join_change_merge_and_close_each_announced_once(
    administration: tuple[ServiceProcess, HandlerHarness, TestClient],
) -> None:
    process, harness, client = administration
    admin = as_(process, Role.COUNTY_ADMIN)
    before = len(harness.published())
    new = {k: v for k, v in JOINED_BY_API.items() if k != "county_code"}
    assert client.post("/organisation/facilities", json=new, headers=admin).status_code == 201
    renamed = {**new, "name": "北门街道社区卫生服务中心", "opening_hours": ["08:00-17:00"]}
    del renamed["facility_id"]
    assert (
        client.put("/organisation/facilities/QS-C09", json=renamed, headers=admin).status_code
        == 200
    )
    merger = {"reason": "merged", "closed_on": "2026-12-01", "merged_into_facility_id": "QS-T01"}
    closed = client.post("/organisation/facilities/QS-C09/closure", json=merger, headers=admin)
    assert closed.status_code == 200, closed.text
    again = client.post("/organisation/facilities/QS-C09/closure", json=merger, headers=admin)
    assert again.status_code == 409
    assert (
        client.put("/organisation/facilities/QS-C09", json=renamed, headers=admin).status_code
        == 409
    )
    types = [e.type for e in harness.published()[before:]]
    assert types == [
        "organisation.facility.registered.v1",
        "organisation.facility.updated.v1",
        "organisation.facility.closed.v1",
    ]
    closed_event = harness.published()[-1].data
    assert closed_event.merged_into_facility_id == "QS-T01"


def test_a_lead_hospital_cannot_close_and_only_a_merger_names_a_successor(
    administration: tuple[ServiceProcess, HandlerHarness, TestClient],
) -> None:
    process, _, client = administration
    admin = as_(process, Role.COUNTY_ADMIN)
    lead = {"reason": "left", "closed_on": "2026-12-01"}
    assert (
        client.post("/organisation/facilities/QS-H01/closure", json=lead, headers=admin).status_code
        == 409
    )
    named = {**lead, "merged_into_facility_id": "QS-T02"}
    assert (
        client.post(
            "/organisation/facilities/QS-T01/closure", json=named, headers=admin
        ).status_code
        == 409
    )
    clinic = as_(process, Role.CLINIC_STAFF, "QS-T01")
    assert (
        client.post(
            "/organisation/facilities/QS-T01/closure", json=lead, headers=clinic
        ).status_code
        == 403
    )
