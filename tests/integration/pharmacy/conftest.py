"""The pharmacy's admin app, called in-process with a token per role (``world_and_api``)."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from libs.platform.auth import Role
from libs.platform.settings import PlatformSettings
from libs.platform.worker import ServiceProcess
from services.pharmacy.bootstrap import compose
from services.pharmacy.settings import Settings
from tests.integration.pharmacy.builders import CLOCK, World
from tests.support.harness import HandlerHarness

with warnings.catch_warnings():
    # Starlette's in-process client warns about its httpx dependency on import.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


class Api:
    def __init__(self, process: ServiceProcess, client: TestClient) -> None:
        self.process = process
        self.client = client

    def call(
        self,
        method: str,
        path: str,
        role: Role | None = Role.PHARMACY_CENTRE,
        facility: str | None = None,
        **kwargs: Any,
    ) -> Any:
        headers = {}
        if role is not None:
            token = self.process.token_authority.mint(
                subject=f"test-{role.value}", role=role, facility_id=facility
            )
            headers["Authorization"] = f"Bearer {token}"
        return self.client.request(method, path, headers=headers, **kwargs)


@pytest.fixture
def world_and_api(
    make_database: Callable[[str], str], tmp_path: Path
) -> Iterator[tuple[World, Api]]:
    url = make_database("pharmacy")
    process = compose(
        PlatformSettings(data_dir=tmp_path),
        Settings(database_url=url, formulary_seed="", opening_stock=""),
        clock=CLOCK,
    )
    harness = HandlerHarness("pharmacy", url, units_of_work=process.units_of_work)
    world = World(harness).organisation()
    with TestClient(process.admin_app()) as client:
        yield world, Api(process, client)
    harness.close()
    process.database.dispose()
