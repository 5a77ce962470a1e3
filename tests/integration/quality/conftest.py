"""The quality service in-process on each database, holding the county's organisation and
staff (the prescribers' titles): its handler harness and its admin app."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from libs.platform.worker import ServiceProcess
from tests.support.apps import HandlerHarness, holding_the_county, in_process, organisation_events
from tests.support.databases import database_url


@pytest.fixture(scope="module")
def seed(tmp_path_factory: pytest.TempPathFactory) -> list[Any]:
    return organisation_events(
        tmp_path_factory.mktemp("seed"), ("organisation.", "staffing.staff.")
    )


@pytest.fixture
def quality(
    db_kind: str, tmp_path: Path, seed: list[Any]
) -> Iterator[tuple[ServiceProcess, HandlerHarness, TestClient]]:
    with database_url(db_kind, tmp_path, "quality") as url:
        process = in_process("quality", url, tmp_path / "data")
        harness = holding_the_county(process, seed)
        with TestClient(process.admin_app()) as client:
            yield process, harness, client
        harness.close()
        process.database.dispose()
