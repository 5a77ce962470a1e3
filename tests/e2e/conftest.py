"""End-to-end tests run on PostgreSQL only, what production runs. SQLite, the embedded
default, is covered where the difference lives: the integration tests run every adapter on
both databases, and the launcher test runs `make run`'s own suite on SQLite."""

from __future__ import annotations

import pytest


@pytest.fixture
def db_kind() -> str:
    return "postgresql"


@pytest.fixture(scope="module")
def module_db_kind() -> str:
    return "postgresql"
