"""Each service's migrations build exactly the schema its models declare (SQLite and PG)."""

from __future__ import annotations

import importlib
from collections.abc import Callable

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, create_engine

from libs.launcher.config import SERVICES
from libs.platform.migrations import MigrationPlan, upgrade


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_migrations_match_models(service: str, make_database: Callable[[str], str]) -> None:
    plan: MigrationPlan = importlib.import_module(f"services.{service}.adapters.schema").MIGRATIONS
    url = make_database(service)
    upgrade(plan, url)
    upgrade(plan, url)  # a second upgrade is a no-op
    combined = MetaData()
    for metadata in plan.all_metadata:
        for table in metadata.tables.values():
            table.to_metadata(combined)
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), combined)
    finally:
        engine.dispose()
    assert diff == [], f"{service}: models and migrations differ: {diff}"
