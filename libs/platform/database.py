"""One engine and session factory per service database, SQLite or PostgreSQL alike."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

__all__ = ["Database", "create_database"]


@dataclass(frozen=True)
class Database:
    engine: Engine
    sessions: sessionmaker[Session]

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def ping(self) -> None:
        """Raise unless the database answers."""
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()

    @contextmanager
    def one_at_a_time(self, name: str) -> Iterator[None]:
        """Run the block while no other process holds ``name`` on this database: a
        session-level advisory lock on PostgreSQL, where several processes of a service share
        it (their start-up seeding would otherwise insert the same rows at once); nothing on
        SQLite, whose file belongs to one process."""
        if self.dialect != "postgresql":
            yield
            return
        key = zlib.crc32(f"one-at-a-time:{name}".encode()) & 0x7FFFFFFF
        with self.engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                conn.commit()


def create_database(url: str, *, pool_size: int = 10) -> Database:
    """An engine tuned for the dialect: WAL and immediate write locks on SQLite.

    SQL parameters are kept out of error messages: an error that reaches a log must not
    carry a patient's data with it.
    """
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=pool_size,
            max_overflow=20,
            hide_parameters=True,
        )
        _tune_sqlite(engine)
    else:
        engine = create_engine(
            url, pool_size=pool_size, max_overflow=20, pool_pre_ping=True, hide_parameters=True
        )
    return Database(engine=engine, sessions=sessionmaker(engine, expire_on_commit=False))


def _tune_sqlite(engine: Engine) -> None:
    # pysqlite's own transaction handling defers BEGIN and breaks SAVEPOINTs; take control of
    # it (the SQLAlchemy-documented recipe) and begin every transaction IMMEDIATE, so writers
    # queue on the busy timeout instead of failing to upgrade a read lock.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
