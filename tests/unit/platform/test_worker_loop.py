"""Faust's tables live on the worker's own event loop, whichever thread asks first.

Faust creates its table manager lazily and mode binds it to the event loop of the first
thread that asks, creating a new loop in a thread that has none. ``/readyz`` runs in
FastAPI's thread pool and reads the tables' recovery: when it came before the worker's own
start-up, the tables sat on a loop nobody ran and the worker never subscribed (a start-up
that stayed unready for ever, about 1 in 4 under a hammered ``/readyz``).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import faust

from libs.platform.settings import PlatformSettings
from services.reporting.bootstrap import compose
from services.reporting.settings import Settings


def from_another_thread(read: Any) -> None:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            read()
        except RuntimeError:
            pass  # "partitions not assigned": what /readyz answers before the start
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    assert not errors, errors


def test_a_readiness_check_from_another_thread_leaves_the_tables_on_the_worker_loop(
    tmp_path: Path,
) -> None:
    process = compose(
        PlatformSettings(data_dir=tmp_path),
        Settings(database_url=f"sqlite:///{tmp_path / 'reporting.sqlite3'}"),
    )
    app = process._build_stream_app()
    from_another_thread(process._check_consumers)
    assert app.tables.loop is app.loop
    assert app.tables.recovery.loop is app.loop
    process.database.dispose()


def test_without_binding_them_first_the_tables_follow_the_asking_thread(tmp_path: Path) -> None:
    """The hazard itself, on a bare Faust app: why the worker binds the tables at build."""
    app: Any = faust.App("bare", broker="kafka://127.0.0.1:1", store="memory://",
                    datadir=str(tmp_path), autodiscover=False)  # fmt: skip
    from_another_thread(lambda: app.tables.recovery)
    assert app.tables.loop is not app.loop
