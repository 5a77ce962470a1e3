"""The gateway in-process on each database, holding the seed county's organisation as its
own handlers applied it (its start hooks run: the member systems are registered)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from libs.platform.worker import ServiceProcess
from tests.support.apps import holding_the_county, in_process, organisation_events
from tests.support.databases import database_url
from tests.support.harness import HandlerHarness


@pytest.fixture(scope="module")
def organisation(tmp_path_factory: pytest.TempPathFactory) -> list[Any]:
    return organisation_events(tmp_path_factory.mktemp("organisation"))


@pytest.fixture
def gateway_process(
    db_kind: str, tmp_path: Path, organisation: list[Any]
) -> Iterator[tuple[ServiceProcess, HandlerHarness]]:
    with database_url(db_kind, tmp_path, "gateway") as url:
        process = in_process("gateway", url, tmp_path / "data")
        harness = holding_the_county(process, organisation)
        yield process, harness
        harness.close()
        process.database.dispose()


@pytest.fixture
def gateway(
    gateway_process: tuple[ServiceProcess, HandlerHarness],
) -> Iterator[tuple[TestClient, HandlerHarness]]:
    process, harness = gateway_process
    with TestClient(process.admin_app()) as client:
        yield client, harness
