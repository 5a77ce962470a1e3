"""Fixtures: a real broker per test, real databases (SQLite and PostgreSQL), real services."""

from __future__ import annotations

import signal
import warnings
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from libs.platform.worker import STUCK_EXIT_CODE
from tests.support.brokers import TestBroker, test_broker
from tests.support.databases import database_url
from tests.support.services import ServiceHandle, start_service, wait_until_ready


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[TestBroker]:
    """A fresh in-memory Tansu broker with every declared topic (about 0.3 s), or, with
    ``TEST_KAFKA_BOOTSTRAP_SERVERS``, a namespace of its own on that external broker."""
    with test_broker(tmp_path / "tansu.log") as running:
        yield running


@pytest.fixture(params=["sqlite", "postgresql"])
def db_kind(request: pytest.FixtureRequest) -> str:
    """Every database-backed test runs on SQLite and on PostgreSQL."""
    return str(request.param)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def module_db_kind(request: pytest.FixtureRequest) -> str:
    """As ``db_kind``, for fixtures shared by a whole test module."""
    return str(request.param)


@pytest.fixture(scope="module")
def module_broker(
    module_db_kind: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestBroker]:
    """One broker for a whole test module (tests must then use ids of their own), and a fresh
    one for each kind of database: the services of the second run must not inherit the first
    run's topics and committed consumer offsets."""
    with test_broker(tmp_path_factory.mktemp(f"broker-{module_db_kind}") / "tansu.log") as running:
        yield running


@pytest.fixture(scope="module")
def module_suite(
    module_broker: TestBroker, module_db_kind: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Suite]:
    """Services started once for a whole module, on each kind of database in turn.

    Starting a service costs seconds (imports, migrations, a group join); a module of
    scenarios that use distinct ids can share one.
    """
    directory = tmp_path_factory.mktemp("suite")
    with ExitStack() as stack:
        running = Suite(
            module_broker.bootstrap_servers,
            lambda name: stack.enter_context(database_url(module_db_kind, directory, name)),
            directory / "data",
        )
        yield running
        running.stop_all()


@pytest.fixture
def make_database(db_kind: str, tmp_path: Path) -> Iterator[Callable[[str], str]]:
    """``make_database(name)`` → a URL of a new database of this test's kind."""
    with ExitStack() as stack:
        yield lambda name: stack.enter_context(database_url(db_kind, tmp_path, name))


#: How long a service may take to become ready before it is considered stuck.
STUCK_START_S = 75.0


class Suite:
    """Starts real service processes against the test's broker and databases."""

    def __init__(self, bootstrap: str, make_database: Callable[[str], str], data_dir: Path):
        self.bootstrap = bootstrap
        self._make_database = make_database
        self.data_dir = data_dir
        self.started: dict[str, ServiceHandle] = {}

    def start(self, *names: str, env: dict[str, str] | None = None) -> dict[str, ServiceHandle]:
        """Start the named services together and wait until every one is ready."""
        handles = {
            name: start_service(
                name,
                bootstrap=self.bootstrap,
                database_url=self._make_database(name),
                data_dir=self.data_dir,
                env=env,
                wait_ready=False,
            )
            for name in names
        }
        self.started.update(handles)
        for name, handle in handles.items():
            try:
                wait_until_ready(handle, STUCK_START_S)
            except AssertionError as stuck:
                # Rarely, on a starved 2-core machine, a worker's first group join on the
                # embedded broker never completes; the worker then exits by itself
                # (CONSUMER_STUCK_EXIT_S) for its supervisor to restart it. Play the
                # supervisor once, loudly; a second failure fails the test.
                if handle.process.poll() not in (None, STUCK_EXIT_CODE):
                    raise
                warnings.warn(f"{name} stuck at start, restarting it once: {stuck}", stacklevel=1)
                handles[name] = self.restart(name)
        return handles

    def restart(self, name: str, *, env: dict[str, str] | None = None) -> ServiceHandle:
        """Stop a service and start it again on the same database."""
        old = self.started[name]
        old.stop()
        handle = start_service(
            name,
            bootstrap=self.bootstrap,
            database_url=old.database_url,
            data_dir=self.data_dir,
            env=env or old.extra_env,
        )
        self.started[name] = handle
        return handle

    def kill_and_restart(
        self, name: str, *, ready_timeout_s: float = STUCK_START_S
    ) -> ServiceHandle:
        """SIGKILL a service (no shutdown of any kind: a crash, an OOM kill) and start it
        again on the same database, data directory and port, as a supervisor would."""
        old = self.started[name]
        old.stop(signal.SIGKILL)
        handle = start_service(
            name,
            bootstrap=self.bootstrap,
            database_url=old.database_url,
            data_dir=self.data_dir,
            env=old.extra_env,
            port=old.port,
            ready_timeout_s=ready_timeout_s,
        )
        self.started[name] = handle
        return handle

    def stop_all(self) -> None:
        for handle in reversed(list(self.started.values())):
            handle.stop()


@pytest.fixture
def suite(
    broker: TestBroker, make_database: Callable[[str], str], tmp_path: Path
) -> Iterator[Suite]:
    running = Suite(broker.bootstrap_servers, make_database, tmp_path / "data")
    yield running
    running.stop_all()
