"""Every service's admin API, fuzzed from its own OpenAPI document, answers no input with a
server error, and every refusal in the one error shape (``{"error", "message", "details"}``):
schemathesis sends valid and invalid requests to the app each service serves, in-process on
PostgreSQL (what production runs, and the stricter database: lengths, precisions and ranges
SQLite would let pass)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from libs.platform.auth import Role
from libs.platform.worker import ServiceProcess
from tests.support.apps import in_process
from tests.support.databases import database_url
from tests.support.fuzz import fuzz
from tests.support.gateway import FHIR_SYSTEM, JSON_SYSTEM, basic

#: Each service fuzzed with the role that may do the most there.
ROLES = {
    "pharmacy": Role.PHARMACY_CENTRE,
    "finance": Role.FINANCE_CENTRE,
    "staffing": Role.COUNTY_ADMIN,
    "referral": Role.COUNTY_ADMIN,
    "reporting": Role.COUNTY_ADMIN,
    "gateway": Role.COUNTY_ADMIN,
    "quality": Role.PHARMACY_CENTRE,
    "administration": Role.COUNTY_ADMIN,
}
#: The gateway's ingestion is called by a member system with its own credential.
CALLERS = {"gateway": {"/fhir": basic(FHIR_SYSTEM), "/messages": basic(JSON_SYSTEM)}}
#: The fuzzer sends far more changes than a person could; it must not be rate-limited.
UNLIMITED = {"rate_limit_per_minute": 1_000_000, "rate_limit_burst": 1_000_000}


@pytest.fixture(params=sorted(ROLES))
def service(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ServiceProcess]:
    with database_url("postgresql", tmp_path, request.param) as url:
        process = in_process(request.param, url, tmp_path / "data", **UNLIMITED)
        for hook in process.on_start:  # the seed data a running service starts with
            hook(process)
        yield process
        process.database.dispose()


def test_no_generated_request_gets_a_server_error(service: ServiceProcess) -> None:
    token = service.token_authority.mint(subject="fuzzer", role=ROLES[service.name])
    run = fuzz(
        service.admin_app(),
        name=service.name,
        token=token,
        max_examples=8,
        callers=CALLERS.get(service.name),
    )
    assert run.calls > 0
    assert not run.misshapen, "\n".join(run.misshapen[:15])
    assert not run.errors, f"{len(run.errors)} server errors in {run.calls} calls:\n" + "\n".join(
        str(e) for e in run.errors[:15]
    )
