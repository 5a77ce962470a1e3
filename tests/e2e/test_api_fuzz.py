"""Every service's admin API, fuzzed from its own OpenAPI document, answers no input with a
server error: schemathesis sends valid and invalid requests to real processes."""

from __future__ import annotations

import pytest

from libs.platform.auth import Role
from tests.conftest import Suite
from tests.support.fuzz import fuzz
from tests.support.services import ServiceHandle

#: Each service fuzzed with the role that may do the most there.
ROLES = {
    "pharmacy": Role.PHARMACY_CENTRE,
    "finance": Role.FINANCE_CENTRE,
    "staffing": Role.COUNTY_ADMIN,
    "referral": Role.COUNTY_ADMIN,
    "reporting": Role.COUNTY_ADMIN,
}
#: The fuzzer sends far more changes than a person could; it must not be rate-limited.
ENV = {"RATE_LIMIT_PER_MINUTE": "1000000", "RATE_LIMIT_BURST": "1000000", "LOG_LEVEL": "WARNING"}


@pytest.fixture(scope="module")
def running(module_suite: Suite) -> dict[str, ServiceHandle]:
    return module_suite.start(*ROLES, env=ENV)


@pytest.mark.parametrize("service", sorted(ROLES))
def test_no_generated_request_gets_a_server_error(
    running: dict[str, ServiceHandle], service: str
) -> None:
    handle = running[service]
    run = fuzz(handle, token=handle.token(ROLES[service]), max_examples=15)
    assert run.calls > 0
    assert not run.errors, f"{len(run.errors)} server errors in {run.calls} calls:\n" + "\n".join(
        str(e) for e in run.errors[:15]
    )
