"""The administration service in-process on each database: its harness and admin app."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

from libs.platform.auth import Role
from libs.platform.worker import ServiceProcess
from services.administration.domain.organisation import CountyConfig, parse_county
from services.administration.service_layer.organisation import sync_county
from tests.integration.administration.builders import published_half_year
from tests.support.apps import in_process
from tests.support.databases import database_url
from tests.support.harness import HandlerHarness

REPO = Path(__file__).resolve().parents[3]


def seed_county() -> CountyConfig:
    text = (REPO / "infra" / "county" / "seed-county.yaml").read_text(encoding="utf-8")
    return parse_county(yaml.safe_load(text))


def as_(process: ServiceProcess, role: Role, facility: str | None = None) -> dict[str, str]:
    token = process.token_authority.mint(subject="ADM-001", role=role, facility_id=facility)
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def fresh(db_kind: str, tmp_path: Path) -> Iterator[tuple[ServiceProcess, HandlerHarness]]:
    """Administration on an empty database, nothing published yet."""
    with database_url(db_kind, tmp_path, "administration") as url:
        process = in_process("administration", url, tmp_path / "data")
        harness = HandlerHarness(
            "administration", process.database_url, units_of_work=process.units_of_work
        )
        yield process, harness
        harness.close()
        process.database.dispose()


@pytest.fixture
def administration(
    fresh: tuple[ServiceProcess, HandlerHarness],
) -> Iterator[tuple[ServiceProcess, HandlerHarness, TestClient]]:
    """Administration holding the seed county (published), with its admin app."""
    process, harness = fresh
    sync_county(process.unit_of_work(), seed_county())
    with TestClient(process.admin_app()) as client:
        yield process, harness, client


Suite = tuple[ServiceProcess, HandlerHarness, TestClient]


@pytest.fixture
def drafted(administration: Suite) -> Suite:
    """Administration holding a published half-year (2026-H1), drafted."""
    process, harness, client = administration
    result = harness.apply(*published_half_year())
    assert not result.dead_lettered, result.dead_lettered
    drafted = client.post("/appraisals/2026-H1", headers=as_(process, Role.COUNTY_ADMIN))
    assert drafted.status_code == 201, drafted.text
    return administration
