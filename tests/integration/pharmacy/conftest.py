"""Every pharmacy integration test runs the service on the tests' county clock (see builders)."""

from __future__ import annotations

import pytest

from services.pharmacy.service_layer.unit_of_work import PharmacyUnitOfWork
from tests.integration.pharmacy.builders import now


@pytest.fixture(autouse=True)
def county_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    # A class attribute, so the HTTP app and harnesses built from ``configured`` subclasses that
    # set no clock of their own read it too.
    monkeypatch.setattr(PharmacyUnitOfWork, "clock", staticmethod(now))
