"""Chaos: the same simulated day twice, on two fresh suites. The first run is left alone;
in the second every service is SIGKILLed and restarted on its database several times
while the day is played. Afterwards the books balance, every stock card reconciles, every
indicator equals the fault-free run's value for value, and nothing is dead-lettered that
the fault-free run did not dead-letter.

PostgreSQL only: it is what production runs, a SIGKILLed client's open transaction is
then rolled back by a separate server (the crash path that matters), and running the
pair of days on SQLite as well would double a test that is already the longest one.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from simulator.county import load_county
from tests.conftest import Suite
from tests.support import brokers
from tests.support.chaos import SERVICES, ChaosMonkey, DurableSettler
from tests.support.county_time import COUNTY_TIMEZONE
from tests.support.databases import database_url
from tests.support.simulation import (
    Key,
    Simulated,
    dead_letters,
    indicator_values,
    make_plan,
    reconciliation_problems,
    simulate,
    simulated_days,
)

pytestmark = pytest.mark.e2e

SEED = 23
RUN_ID = "chaos"  # the same in both runs: the ids in the plan derive from it
SCALE, WINDOW, FORMULARY = 0.06, timedelta(minutes=20), 80
#: The faulty run plays the day over at least this many real seconds (``pace``), so that
#: every service can be killed three times while the acts are still coming.
FAULTY_PLAY_S = 50.0
#: ``CHAOS_KILLS`` and ``CHAOS_SEED`` vary the faults for a longer hunt by hand.
KILLS_PER_SERVICE = int(os.environ.get("CHAOS_KILLS", "3"))
CHAOS_SEED = int(os.environ.get("CHAOS_SEED", str(SEED)))


@pytest.fixture
def db_kind() -> str:
    """This module's suites run on PostgreSQL only (see the module's docstring)."""
    return "postgresql"


@dataclass
class Outcome:
    day: Simulated
    values: dict[Key, tuple[Decimal, Decimal]]
    letters: set[tuple[str, str, str]]  # (event type, reason, consumer)
    problems: list[str]
    play_s: float


def _sent(day: Simulated) -> dict[str, int]:
    return {
        k.removeprefix("sent:"): n for k, n in day.result.counts.items() if k.startswith("sent:")
    }


def _stable_values(suite: Suite, day: Simulated) -> dict[Key, tuple[Decimal, Decimal]]:
    """The indicator values once two reads two seconds apart agree."""
    first, last = simulated_days(day.plan)
    previous = indicator_values(suite.started["reporting"], first, last)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        time.sleep(2)
        current = indicator_values(suite.started["reporting"], first, last)
        if current == previous:
            return current
        previous = current
    raise AssertionError("the indicator values kept changing")


def _play(suite: Suite, end: datetime, *, monkey_seed: int | None = None) -> Outcome:
    suite.start(*SERVICES)
    settler = DurableSettler(suite)
    monkey = (
        ChaosMonkey(suite, seed=monkey_seed, kills=KILLS_PER_SERVICE, span_s=FAULTY_PLAY_S - 8)
        if monkey_seed is not None
        else None
    )
    began: list[float] = []

    def on_play() -> None:
        began.append(time.monotonic())
        if monkey is not None:
            monkey.start()

    try:
        day = simulate(
            suite.started, suite.bootstrap, suite.data_dir, seed=SEED, run_id=RUN_ID, end=end,
            scale=SCALE, window=WINDOW, formulary=FORMULARY,
            pace=86400 / FAULTY_PLAY_S if monkey else 0.0, settler=settler, on_play=on_play,
        )  # fmt: skip
        play_s = time.monotonic() - began[0]
    finally:
        if monkey is not None:
            monkey.stop()
    try:
        if monkey is not None:
            assert not monkey.errors, monkey.errors
            counts = monkey.counts()
            print(f"kills: {counts}; restarts took "
                  f"{[round(k.restarted_after_s, 1) for k in monkey.kills]} s")  # fmt: skip
            print(f"the simulator waited out: {dict(sorted(day.result.faults.items()))}")
            assert all(n >= 2 for n in counts.values()), counts
            late = [k for k in monkey.kills if k.at_s > play_s]
            assert len(late) <= len(monkey.kills) // 3, ("kills after the day", late, play_s)
        assert settler.settle(_sent(day), say=print), "the suite did not settle"
    finally:
        settler.close()
    assert not day.result.problems, day.result.problems[:10]
    assert day.result.settled
    values = _stable_values(suite, day)
    problems = reconciliation_problems(
        suite.started["pharmacy"], suite.started["finance"], day.county
    )
    letters = {
        (letter.header("dlt-event-type") or "?", letter.reason or "?", letter.consumer or "?")
        for letter in dead_letters(suite.bootstrap)
    }
    return Outcome(day, values, letters, problems, play_s)


@pytest.fixture
def second_suite(db_kind: str, tmp_path: Path) -> Iterator[Suite]:
    """Another suite, as fresh as ``suite``: its own broker, databases and data."""
    with brokers.test_broker(tmp_path / "tansu-chaos.log") as broker, ExitStack() as stack:
        directory = tmp_path / "chaos"
        directory.mkdir()
        running = Suite(
            broker.bootstrap_servers,
            lambda name: stack.enter_context(database_url(db_kind, directory, name)),
            directory / "data",
        )
        try:
            yield running
        finally:
            running.stop_all()


def _not_across_county_midnight(need: timedelta = timedelta(minutes=6)) -> None:
    """Sessions are planned on the county's today: two runs either side of its midnight
    would plan different days. Within ``need`` of midnight, start just after it instead."""
    local = datetime.now(COUNTY_TIMEZONE)
    midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=5, microsecond=0)
    if midnight - local < need:
        time.sleep((midnight - local).total_seconds())


@pytest.mark.timeout(480 + 360)  # about 3 minutes on 2 idle cores; room for a busy machine
def test_killed_and_restarted_services_lose_and_double_nothing(
    suite: Suite, second_suite: Suite
) -> None:
    _not_across_county_midnight()
    started = time.monotonic()
    # One plan for both runs: a pure function of the county, the seed, the run id and the
    # clock; the clock is anchored on one ``end`` (the period's last instant, real time),
    # so the business times are the same instants in both runs.
    end = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=5)
    county = load_county(FORMULARY)
    plan, again = (
        make_plan(county, end=end, seed=SEED, run_id=RUN_ID, scale=SCALE, window=WINDOW)
        for _ in range(2)
    )
    assert plan == again

    calm = _play(suite, end)
    suite.stop_all()
    calm_s = time.monotonic() - started
    assert calm.day.plan == plan
    assert calm.problems == [], calm.problems[:10]

    chaos = _play(second_suite, end, monkey_seed=CHAOS_SEED)
    assert chaos.day.plan == plan

    # Nothing lost, nothing doubled: the same effects as without faults.
    assert chaos.problems == [], chaos.problems[:10]
    assert chaos.day.result.counts == calm.day.result.counts
    assert len(calm.values) > 50
    differences = {
        key: (calm.values.get(key), chaos.values.get(key))
        for key in calm.values.keys() | chaos.values.keys()
        if calm.values.get(key) != chaos.values.get(key)
    }
    assert not differences, sorted(differences.items())[:20]
    assert chaos.letters <= calm.letters, chaos.letters - calm.letters
    print(f"chaos: fault-free run {calm_s:.1f}s (day played in {calm.play_s:.1f}s), "
          f"faulty run {time.monotonic() - started - calm_s:.1f}s (day {chaos.play_s:.1f}s), "
          f"{len(calm.values)} indicator cells, dead letters {sorted(calm.letters)}")  # fmt: skip
