"""Fixtures: a real broker per test, real databases (SQLite and PostgreSQL), real services.

The test run's Kafka cluster and PostgreSQL server are started once, here, by the process
that runs or distributes the tests (``tests/support/testbed.py``), and stopped at its end.
"""

from __future__ import annotations

import signal
import weakref
from collections.abc import Callable, Generator, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.support.brokers import TestBroker, broker_for_test, cluster_bootstrap
from tests.support.databases import database_url
from tests.support.services import ServiceHandle, start_service, wait_until_ready
from tests.support.testbed import Testbed

TESTBED = pytest.StashKey[Testbed]()
UNIT_TESTS = Path(__file__).parent / "unit"


def _only_unit_tests(config: pytest.Config) -> bool:
    """Unit tests need neither broker nor database: a run of only those starts nothing."""
    paths = [Path(arg.split("::")[0]).resolve() for arg in config.args]
    return bool(paths) and all(p.is_relative_to(UNIT_TESTS) for p in paths)


def pytest_configure(config: pytest.Config) -> None:
    if hasattr(config, "workerinput") or _only_unit_tests(config):
        return  # an xdist worker inherits the servers its controller started
    testbed = Testbed()
    testbed.start()
    config.stash[TESTBED] = testbed


#: The order whole test files are handed to the xdist workers (``make test`` passes
#: ``--no-loadscope-reorder``, or xdist would put the files with the fewest tests, such as
#: the fault runs of many minutes each, last, to run alone while the other workers idle).
#: The longest first; then the contract tests, quick; then the next longest; then the rest
#: in collection order. Durations from ``make test PYTEST_ARGS=--durations=40`` on the CI
#: machine.
RUN_ORDER = {
    # ~4 min alone, up to 9 beside the others: first. (The fault module and the launcher's
    # whole-suite tests run after all of these, alone: the Makefile's second round.)
    "tests/e2e/test_appraisal_flow.py": 0,
    "tests/integration/platform/test_api_fuzz.py": 1,  # ~4 min: every service's operations
    "tests/contract": 2,
    "tests/e2e/test_console_flow.py": 3,  # seven services and a browser
    "tests/e2e/test_quality_flow.py": 4,
    "tests/e2e/test_gateway_flow.py": 5,
    "tests/e2e/test_hostile_ingestion.py": 6,
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        path = item.nodeid.split("::")[0]
        for prefix, place in RUN_ORDER.items():
            if path == prefix or path.startswith(prefix + "/"):
                return place
        return len(RUN_ORDER)

    items.sort(key=rank)  # stable: within a rank, the collection order


def pytest_unconfigure(config: pytest.Config) -> None:
    testbed = config.stash.get(TESTBED, None)
    if testbed is not None:
        testbed.stop()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    testbed = terminalreporter.config.stash.get(TESTBED, None)
    if testbed is not None:
        terminalreporter.write_line(f"testbed: {testbed.summary()}")


#: Suites alive now, so that a failing test's report carries what their services logged.
LIVE_SUITES: weakref.WeakSet[Suite] = weakref.WeakSet()
#: How much of each service's log a failure report shows.
LOG_TAIL_CHARS = 6000


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item) -> Generator[None, pytest.TestReport, None]:
    """A failing end-to-end test says little without the services' side of the story (a
    flake in CI cannot be re-run to look): append each live service's log tail."""
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed:
        return
    for running in list(LIVE_SUITES):
        for name, handle in running.started.items():
            tail = handle.log()[-LOG_TAIL_CHARS:]
            if tail:
                report.sections.append((f"log of {name} (last {LOG_TAIL_CHARS} chars)", tail))


@pytest.fixture
def broker(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TestBroker]:
    """A topic namespace of this test's own on the run's Kafka cluster; or, parametrized
    indirectly (``@pytest.mark.parametrize("broker", ["kafka", "tansu"], indirect=True)``),
    on the broker named: ``tansu`` is a fresh embedded broker (about 0.3 s)."""
    kind = getattr(request, "param", None)
    if kind == "kafka" and not cluster_bootstrap():
        pytest.skip("no Kafka cluster in this run (TEST_BROKER=tansu)")
    with broker_for_test(tmp_path / "tansu.log", kind) as running:
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
    log = tmp_path_factory.mktemp(f"broker-{module_db_kind}") / "tansu.log"
    with broker_for_test(log) as running:
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

    def __init__(
        self,
        bootstrap: str,
        make_database: Callable[[str], str],
        data_dir: Path,
        *,
        wrapper: str | None = None,
    ):
        self.bootstrap = bootstrap
        self._make_database = make_database
        self.data_dir = data_dir
        self.wrapper = wrapper  # e.g. tests.support.without_dedup
        self.started: dict[str, ServiceHandle] = {}
        LIVE_SUITES.add(self)

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
                wrapper=self.wrapper,
            )
            for name in names
        }
        self.started.update(handles)
        for handle in handles.values():
            wait_until_ready(handle, STUCK_START_S)
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
            wrapper=old.wrapper,
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
            wrapper=old.wrapper,
        )
        self.started[name] = handle
        return handle

    def stop_all(self) -> None:
        """Ask every service to stop at once, then wait for each (a clean stop takes a
        worker a few seconds: leaving its group, flushing its relay)."""
        LIVE_SUITES.discard(self)
        handles = list(reversed(list(self.started.values())))
        for handle in handles:
            handle.send_signal(signal.SIGTERM)
        for handle in handles:
            handle.stop()


@pytest.fixture
def suite(
    broker: TestBroker, make_database: Callable[[str], str], tmp_path: Path
) -> Iterator[Suite]:
    running = Suite(broker.bootstrap_servers, make_database, tmp_path / "data")
    yield running
    running.stop_all()
