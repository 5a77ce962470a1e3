"""Who may read what, over every GET endpoint of every service, in-process on a migrated
database: without a token → 401; a role the endpoint does not admit → 403; an admitted role
→ neither; clinic staff asking for another facility → 403, wherever the endpoint is scoped to
a facility. The roles are read from each endpoint's own dependencies, so a new endpoint is in
the matrix (and must declare who reads it) the day it is added. docs/operations.md, "Who may
read what", writes the same rules down."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from libs.platform.auth import Role
from libs.platform.service import definitions
from libs.platform.worker import ServiceProcess
from tests.support.apps import in_process
from tests.support.routes import Operation, read_operations

SERVICES = tuple(definitions())
CLINIC, STRANGER = "QS-T01", "QS-T02"

#: Endpoints with a facility in the path that every admitted caller may read for any
#: facility: the organisation (master data), and the capacity a referral desk books into.
CROSS_FACILITY = {
    "/directory/facilities/{facility_id}",
    "/organisation/facilities/{facility_id}",
    "/capacity/{facility_id}/{department_id}",
}
#: Endpoints a clinic's staff may filter by facility: only ever by their own.
FACILITY_FILTERED = {
    "pharmacy": ["/transfers", "/shortages", "/expiry/lots", "/expiry/value", "/reservations"],
    "finance": ["/ledger/journal", "/ledger/balances", "/ledger/trial-balance"],
    "staffing": ["/sessions"],
    "quality": ["/herbal-orders"],
}
PATH_VALUES = {"facility_id": STRANGER, "period": "2026-11", "month": "2026-11", "code": "X"}


class Reader:
    def __init__(self, process: ServiceProcess, client: TestClient) -> None:
        self.process, self.client = process, client

    def get(self, path: str, role: Role | None, facility: str | None = None, **params: Any) -> int:
        headers = {}
        if role is not None:
            token = self.process.token_authority.mint(
                subject="reader", role=role, facility_id=facility
            )
            headers["Authorization"] = f"Bearer {token}"
        return self.client.get(path, headers=headers, params=params).status_code


@pytest.fixture(params=SERVICES)
def reader(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Reader]:
    process = in_process(
        request.param, f"sqlite:///{tmp_path / 'service.sqlite3'}", tmp_path / "data"
    )
    with TestClient(process.admin_app(), raise_server_exceptions=False) as client:
        yield Reader(process, client)
    process.database.dispose()


def concrete(operation: Operation) -> str:
    path = operation.path
    for name in operation.path_params:
        path = path.replace(f"{{{name}}}", PATH_VALUES.get(name, "X"))
    return path


def caller_facility(role: Role) -> str | None:
    return CLINIC if role is Role.CLINIC_STAFF else None


def test_every_read_declares_its_readers_and_refuses_everyone_else(reader: Reader) -> None:
    operations = read_operations(reader.process.admin_app())
    assert operations, "no read found: is the matrix still looking at the app's routes?"
    for operation in operations:
        path = concrete(operation)
        assert operation.roles, f"{operation.path} declares no readers (require_roles)"
        assert reader.get(path, None) == 401, path
        for role in Role:
            status = reader.get(path, role, caller_facility(role))
            if role not in operation.roles:
                assert status == 403, (path, role)
            elif role is not Role.CLINIC_STAFF or operation.path in CROSS_FACILITY:
                assert status not in (401, 403), (path, role, status)


def test_clinic_staff_read_only_their_own_facility(reader: Reader) -> None:
    service = reader.process.name
    for operation in read_operations(reader.process.admin_app()):
        if Role.CLINIC_STAFF not in operation.roles or operation.path in CROSS_FACILITY:
            continue
        if "facility_id" in operation.path_params:
            assert reader.get(concrete(operation), Role.CLINIC_STAFF, CLINIC) == 403, operation
            own = concrete(operation).replace(STRANGER, CLINIC)
            assert reader.get(own, Role.CLINIC_STAFF, CLINIC) not in (401, 403), own
    for path in FACILITY_FILTERED.get(service, []):
        assert reader.get(path, Role.CLINIC_STAFF, CLINIC, facility_id=STRANGER) == 403, path
        assert reader.get(path, Role.CLINIC_STAFF, CLINIC, facility_id=CLINIC) == 200, path
