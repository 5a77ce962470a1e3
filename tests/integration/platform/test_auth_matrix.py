"""Who may change what, over every mutating endpoint of every service, in-process (each
service's own app on PostgreSQL, holding the seed county as its handlers applied it): without
a token → 401; with a role the endpoint does not admit → 403; as clinic staff of another
facility → 403. The roles each endpoint admits are read from its own dependencies, so a new
endpoint is covered (and must declare its roles) the day it is added. Real things (a transfer,
a session, a referral) are created first through the same apps, so the facility check behind
each endpoint is reached."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from libs.events.envelope import utc_now
from libs.platform.auth import Role
from libs.platform.worker import ServiceProcess
from tests.support.apps import holding_the_county, in_process, organisation_events
from tests.support.county_time import county_today
from tests.support.databases import database_url
from tests.support.gateway import (
    FHIR_SYSTEM,
    JSON_FACILITY,
    JSON_SYSTEM,
    basic,
    fhir_visit_bundle,
    visit_message,
)
from tests.support.referral import resident_id, upward
from tests.support.routes import Operation, mutating_operations

SERVICES = ("pharmacy", "finance", "staffing", "referral", "gateway", "quality", "administration")
CLINIC, STRANGER, HOSPITAL = "QS-T01", "QS-T02", "QS-H01"
UNLIMITED = {"rate_limit_per_minute": 1_000_000, "rate_limit_burst": 1_000_000}


@dataclass
class App:
    process: ServiceProcess
    client: TestClient

    def token(self, role: Role, facility: str | None = None) -> str:
        return self.process.token_authority.mint(subject="t", role=role, facility_id=facility)

    def as_(self, role: Role, facility: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(role, facility)}"}


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, App]]:
    directory = tmp_path_factory.mktemp("auth")
    organisation = organisation_events(directory / "organisation")
    with ExitStack() as stack:
        apps = {}
        for name in SERVICES:
            url = stack.enter_context(database_url("postgresql", directory, name))
            process = in_process(name, url, directory / name, **UNLIMITED)
            stack.callback(process.database.dispose)
            stack.callback(holding_the_county(process, organisation).close)
            client = stack.enter_context(TestClient(process.admin_app()))
            apps[name] = App(process, client)
        yield apps


@pytest.fixture(scope="module")
def resources(running: dict[str, App]) -> dict[str, str]:
    """Real things belonging to the clinic (and the hospital), none to the stranger."""
    tomorrow = county_today() + timedelta(days=1)
    pharmacy, staffing, referral = running["pharmacy"], running["staffing"], running["referral"]
    transfer = _created(
        pharmacy.client.post(
            "/transfers",
            headers=pharmacy.as_(Role.PHARMACY_CENTRE),
            json={
                "from_facility_id": HOSPITAL,
                "to_facility_id": CLINIC,
                "lines": [{"drug_code": "QSY-W011", "quantity": 1}],
            },
        )
    )
    session = _created(
        staffing.client.post(
            "/sessions",
            headers=staffing.as_(Role.HR),
            json={
                "staff_id": "S-H01-003",
                "facility_id": CLINIC,
                "date": tomorrow.isoformat(),
                "half_day": "morning",
            },
        )
    )
    for offset in range(3):  # a request needs capacity at the hospital
        day = (county_today() + timedelta(days=offset)).isoformat()
        _created(
            referral.client.put(
                f"/capacity/{HOSPITAL}/QS-H01-CARD/{day}",
                headers=referral.as_(Role.COUNTY_ADMIN),
                json={"slots": 20, "beds": 0},
            )
        )
    created = _created(
        referral.client.post(
            "/referrals",
            headers=referral.as_(Role.CLINIC_STAFF, CLINIC),
            json=upward("测试患者", resident_id()),
        )
    )
    return {
        "transfer_id": transfer["transfer_id"],
        "session_id": session["session_id"],
        "referral_id": created["referral_id"],
        "day": tomorrow.isoformat(),
    }


def _created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code in (201, 200), response.text
    body: dict[str, Any] = response.json()
    return body


def target(op: Operation, resources: dict[str, str]) -> str:
    values = {
        "facility_id": CLINIC,
        "drug_code": "QSY-W011",
        "department_id": "QS-H01-CARD",
        "period": "2026-01",
        "budget_id": "B-0",
        "entry_id": "E-0",
        "leave_id": "L-0",
        "rotation_id": "R-0",
        "staff_id": "S-H01-003",
        "stationing_id": "ST-0",
        "week_start": "2026-11-16",
        "system_id": JSON_SYSTEM,
        "prescription_id": "RX-AUTH-0",
        "order_id": "HO-AUTH-0",
        "month": "2026-11",
        "topic": "ingestion.visit.dlt",
        "partition": "0",
        "offset": "0",
        **resources,
    }
    if op.path.startswith("/capacity"):
        values["facility_id"] = HOSPITAL  # the receiving department publishes capacity
    path = op.path
    for name in op.path_params:
        path = path.replace(f"{{{name}}}", values[name])
    return path


def valid_body(op: Operation) -> Any:
    """A body that passes validation, so the facility check behind it is reached."""
    lot = {"drug_code": "QSY-W011", "lot_number": "AUTH-1"}
    bodies: dict[str, Any] = {
        "/stock/{facility_id}/receipts": lot | {"expiry_date": "2030-01-01", "quantity": 1},
        "/stock/{facility_id}/adjustments": lot
        | {"quantity_delta": 1, "reason": "found", "expiry_date": "2030-01-01"},
        "/stock/{facility_id}/counts": {
            "lines": [lot | {"expiry_date": "2030-01-01", "counted_quantity": 1}]
        },
        "/stock/{facility_id}/write-offs": lot | {"quantity": 1, "reason": "damaged"},
        "/transfers": {
            "from_facility_id": HOSPITAL,
            "to_facility_id": CLINIC,
            "lines": [{"drug_code": "QSY-W011", "quantity": 1}],
        },
        "/transfers/{transfer_id}/cancel": {"reason": "not_needed"},
        "/transfers/{transfer_id}/ship": {},
        "/transfers/{transfer_id}/receive": {},
        "/sessions/{session_id}/check-out": {"patients_seen": 1},
        "/capacity/{facility_id}/{department_id}/{day}": {"slots": 1, "beds": 0},
        "/referrals": upward("测试患者", resident_id()),
        "/referrals/{referral_id}/reject": {"reason_code": "no_capacity"},
        "/herbal-orders/{order_id}/delivery-failure": {"reason": "nobody_home"},
        "/referrals/{referral_id}/cancel": {"reason_code": "patient_declined"},
        "/audits/{month}/facilities/{facility_id}/prescriptions/{prescription_id}": {
            "verdict": "rational"
        },
        "/appraisals/{period}/scorecards/{facility_id}/comments": {"text": "数据待核"},
        "/referrals/{referral_id}/schedule": {
            "scheduled_for": (utc_now() + timedelta(days=2)).isoformat()
        },
    }
    return bodies.get(op.path, {})


def call(app: App, op: Operation, path: str, headers: dict[str, str], body: Any) -> Any:
    return app.client.request(op.method, path, headers=headers, json=body)


def bearer(app: App, role: Role, facility: str | None = None) -> dict[str, str]:
    facility = facility if facility or role is not Role.CLINIC_STAFF else CLINIC
    return app.as_(role, facility)


@pytest.mark.parametrize("service", SERVICES)
def test_every_mutating_endpoint_refuses_the_wrong_caller(
    running: dict[str, App], resources: dict[str, str], service: str
) -> None:
    handle = running[service]
    ops = mutating_operations(handle.process.admin_app())
    assert ops, f"{service} has no mutating endpoints?"
    problems = []
    for op in ops:
        path = target(op, resources)
        if op.member_system:
            problems += member_system_refusals(handle, op, path)
            continue
        if not op.roles:
            problems.append(f"{op.method} {op.path} declares no roles")
            continue
        outcome = call(handle, op, path, {}, valid_body(op)).status_code
        if outcome != 401:
            problems.append(f"{op.method} {op.path} without a token → {outcome}, not 401")
        for role in set(Role) - op.roles:
            outcome = call(handle, op, path, bearer(handle, role), valid_body(op)).status_code
            if outcome != 403:
                problems.append(f"{op.method} {op.path} as {role.value} → {outcome}, not 403")
        if Role.CLINIC_STAFF in op.roles:
            response = call(
                handle, op, path, bearer(handle, Role.CLINIC_STAFF, STRANGER), valid_body(op)
            )
            if response.status_code != 403:
                problems.append(
                    f"{op.method} {op.path} as another clinic → "
                    f"{response.status_code}, not 403: {response.text[:200]}"
                )
    assert not problems, "\n".join(problems)


def member_system_refusals(app: App, op: Operation, path: str) -> list[str]:
    """An ingestion endpoint: 401 without a member system's credential (a person's token is
    none), with a wrong secret, and 403 from a system submitting for another facility."""
    problems = []
    body = member_body(op)
    wrong = {**basic(JSON_SYSTEM, "not-the-secret")}
    for label, headers in (("no credential", {}), ("a token", bearer(app, Role.COUNTY_ADMIN)),
                           ("a wrong secret", wrong)):  # fmt: skip
        outcome = call(app, op, path, headers, body).status_code
        if outcome != 401:
            problems.append(f"{op.method} {op.path} with {label} → {outcome}, not 401")
    response = call(app, op, path, basic(FHIR_SYSTEM), body)
    statuses = {response.status_code}
    if response.status_code == 207:
        statuses = {r["status"] for r in response.json()["results"]}
    if statuses != {403}:
        problems.append(
            f"{op.method} {op.path} for another facility → {statuses}, not 403: "
            f"{response.text[:200]}"
        )
    return problems


def member_body(op: Operation) -> Any:
    """A valid message of the JSON system's facility (sent by the other system: 403)."""
    if op.path == "/fhir":
        return fhir_visit_bundle("AUTH-B1", "AUTH-V1", "AUTH-RX1", facility=JSON_FACILITY,
                                 kind="transaction")  # fmt: skip
    message = visit_message("AUTH-M1", "AUTH-V2", facility=JSON_FACILITY)
    return {"messages": [message]} if op.path.endswith("/batch") else message
