"""Who may change what, over every mutating endpoint of every service, against real processes:
without a token → 401; with a role the endpoint does not admit → 403; as clinic staff of
another facility → 403. The roles each endpoint admits are read from its own dependencies, so
a new endpoint is covered (and must declare its roles) the day it is added."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from libs.events.envelope import utc_now
from libs.platform.auth import Role
from libs.platform.service import definitions
from tests.conftest import Suite
from tests.support.county_time import county_today
from tests.support.kafka import wait_for
from tests.support.referral import PATIENT_DATA_KEYS, PSEUDONYM_SECRET, resident_id, upward
from tests.support.routes import Operation, mutating_operations
from tests.support.services import ServiceHandle

SERVICES = ("pharmacy", "finance", "staffing", "referral")
CLINIC, STRANGER, HOSPITAL = "QS-T01", "QS-T02", "QS-H01"
ENV = {
    "PSEUDONYM_SECRET": PSEUDONYM_SECRET,
    "REFERRAL_PATIENT_DATA_KEYS": PATIENT_DATA_KEYS,
    "RATE_LIMIT_PER_MINUTE": "1000000",
    "RATE_LIMIT_BURST": "1000000",
}


def operations(service: str) -> list[Operation]:
    app = definitions()[service].build().admin_app()
    return mutating_operations(app)


@pytest.fixture(scope="module")
def running(module_suite: Suite) -> dict[str, ServiceHandle]:
    return module_suite.start("staffing", "pharmacy", "finance", "referral", env=ENV)


@pytest.fixture(scope="module")
def resources(running: dict[str, ServiceHandle]) -> dict[str, str]:
    """Real things belonging to the clinic (and the hospital), none to the stranger."""
    tomorrow = county_today() + timedelta(days=1)
    with running["pharmacy"].client(Role.PHARMACY_CENTRE) as centre:
        transfer = wait_for(
            lambda: _created(
                centre.post(
                    "/transfers",
                    json={
                        "from_facility_id": HOSPITAL,
                        "to_facility_id": CLINIC,
                        "lines": [{"drug_code": "QSY-W011", "quantity": 1}],
                    },
                )
            ),
            what="a transfer",
        )
    with running["staffing"].client(Role.HR) as hr:
        session = wait_for(
            lambda: _created(
                hr.post(
                    "/sessions",
                    json={
                        "staff_id": "S-H01-003",
                        "facility_id": CLINIC,
                        "date": tomorrow.isoformat(),
                        "half_day": "morning",
                    },
                )
            ),
            what="a session",
        )
    with running["referral"].client(Role.COUNTY_ADMIN) as admin:  # a request needs capacity
        for offset in range(3):
            day = (county_today() + timedelta(days=offset)).isoformat()
            wait_for(
                lambda day=day: _created(
                    admin.put(
                        f"/capacity/{HOSPITAL}/QS-H01-CARD/{day}", json={"slots": 20, "beds": 0}
                    )
                ),
                what="capacity at the hospital",
            )
    with running["referral"].client(Role.CLINIC_STAFF, CLINIC) as clinic:
        referral = wait_for(
            lambda: _created(clinic.post("/referrals", json=upward("测试患者", resident_id()))),
            what="a referral",
        )
    return {
        "transfer_id": transfer["transfer_id"],
        "session_id": session["session_id"],
        "referral_id": referral["referral_id"],
        "day": tomorrow.isoformat(),
    }


def _created(response: httpx.Response) -> dict[str, Any] | None:
    if response.status_code in (201, 200):
        body: dict[str, Any] = response.json()
        return body
    return None  # the service's copies of the organisation, formulary or staff still lag


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
        "/referrals/{referral_id}/cancel": {"reason_code": "patient_declined"},
        "/referrals/{referral_id}/schedule": {
            "scheduled_for": (utc_now() + timedelta(days=2)).isoformat()
        },
    }
    return bodies.get(op.path, {})


def call(
    service: ServiceHandle, op: Operation, path: str, headers: dict[str, str], body: Any
) -> httpx.Response:
    return httpx.request(op.method, f"{service.url}{path}", headers=headers, json=body, timeout=30)


def bearer(service: ServiceHandle, role: Role, facility: str | None = None) -> dict[str, str]:
    facility = facility if facility or role is not Role.CLINIC_STAFF else CLINIC
    return {"Authorization": f"Bearer {service.token(role, facility)}"}


@pytest.mark.parametrize("service", SERVICES)
def test_every_mutating_endpoint_refuses_the_wrong_caller(
    running: dict[str, ServiceHandle], resources: dict[str, str], service: str
) -> None:
    handle = running[service]
    ops = operations(service)
    assert ops, f"{service} has no mutating endpoints?"
    problems = []
    for op in ops:
        path = target(op, resources)
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
