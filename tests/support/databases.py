"""Real databases for tests: a SQLite file, or a fresh PostgreSQL database per test.

PostgreSQL comes from one of:

- ``TEST_DATABASE_URL``: one existing database the fixtures did not create (e.g. a server
  started beforehand on another port). Each service database of each test is a schema of
  its own in it (selected with ``search_path``), dropped afterwards;
- ``TEST_POSTGRES_ADMIN_URL``: a server on which each service database of each test is a
  database of its own, dropped afterwards. The test run starts a throw-away server and sets
  it (``tests/support/testbed.py``) unless one of the two is given.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


def admin_url() -> str:
    """Where tests create (and drop) their PostgreSQL databases."""
    return os.environ.get(
        "TEST_POSTGRES_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )


def external_database_url() -> str:
    return os.environ.get("TEST_DATABASE_URL", "")


def postgres_available() -> bool:
    try:
        engine = create_engine(external_database_url() or admin_url())
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:
        return False


def require_postgres() -> None:
    """Skip without PostgreSQL, except in CI, where its absence is a failure."""
    if postgres_available():
        return
    if os.environ.get("CI"):
        where = external_database_url() or admin_url()
        pytest.fail(f"PostgreSQL is required in CI and not reachable at {where}")
    pytest.skip("PostgreSQL not reachable")


@contextmanager
def postgres_schema(prefix: str = "mc_test") -> Iterator[str]:
    """A new, empty schema in the external database, as a URL that selects it."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    engine = create_engine(external_database_url(), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{name}"'))
    url = make_url(external_database_url())
    try:
        yield url.update_query_dict({"options": f"-csearch_path={name}"}).render_as_string(
            hide_password=False
        )
    finally:
        with engine.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
        engine.dispose()


@contextmanager
def postgres_database(prefix: str = "mc_test") -> Iterator[str]:
    """A new, empty PostgreSQL database; dropped afterwards (with any open connections)."""
    if external_database_url():
        with postgres_schema(prefix) as url:
            yield url
        return
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url()).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def database_url(kind: str, directory: Path, name: str) -> Iterator[str]:
    """A database of ``kind`` (``sqlite`` or ``postgresql``) for one service in one test."""
    if kind == "sqlite":
        yield f"sqlite:///{directory / f'{name}.sqlite3'}"
    else:
        require_postgres()
        with postgres_database(f"mc_{name}") as url:
            yield url
