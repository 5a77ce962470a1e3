"""One simulated county day played against a fresh suite, and everything it left behind, so
that two runs of the same plan — one undisturbed, one under faults (services killed, brokers
killed, frozen or restarted) — can be compared value for value.

What is compared (:func:`differences`): every indicator at every level, every facility's
stock on hand per drug, every book's debits and credits per account, the dead letters; and
each run must reconcile on its own (books balance, every stock card adds up).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

import httpx

from libs.platform.auth import Role
from tests.support.chaos import SERVICES, DurableSettler
from tests.support.county_time import COUNTY_TIMEZONE
from tests.support.simulation import (
    Key,
    Simulated,
    all_pages,
    dead_letters,
    each_facility,
    indicator_values,
    reconciliation_problems,
    simulate,
    simulated_days,
)

if TYPE_CHECKING:
    from tests.conftest import Suite

SEED = 23
RUN_ID = "chaos"  # the same in every run: the ids in the plan derive from it
SCALE, WINDOW, FORMULARY = 0.06, timedelta(minutes=20), 80

Stock = dict[tuple[str, str], Decimal]  # (facility, drug) -> on hand
Books = dict[tuple[Any, Any, str], tuple[Decimal, Decimal]]  # (community, facility, account)


def dedup_wrapper() -> str | None:
    """``BREAK_DEDUP=1`` runs the disturbed suites with deduplication broken on purpose
    (``tests/support/without_dedup.py``): the fault tests must then fail."""
    return "tests.support.without_dedup" if os.environ.get("BREAK_DEDUP") == "1" else None


def day_end(need: timedelta = timedelta(minutes=6)) -> datetime:
    """Where to end the simulated period in real time, for runs that must all play the same
    plan: now, or just after the county's midnight when it is less than ``need`` away
    (sessions are planned on the county's today, so runs either side of its midnight would
    plan different days)."""
    local = datetime.now(COUNTY_TIMEZONE)
    midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=5, microsecond=0)
    if midnight - local < need:
        time.sleep((midnight - local).total_seconds())
    return datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=5)


class Disturbance(Protocol):
    """Faults injected while a day is played: started when the acts start coming."""

    def start(self) -> None: ...

    def stop(self) -> None:
        """No further fault; wait until what a fault stopped is back."""


@dataclass
class Outcome:
    day: Simulated
    values: dict[Key, tuple[Decimal, Decimal]]
    stock: Stock
    books: Books
    letters: set[tuple[str, str, str]]  # (event type, reason, consumer)
    problems: list[str]
    play_s: float
    settled_s: float  # from the last act until the suite had caught up
    acts_ended_at: float  # time.monotonic() of the last act
    reactions: str = ""  # what check_every_reaction found missing (the undisturbed run's)

    @property
    def sent(self) -> dict[str, int]:
        return sent_records(self.day)


def sent_records(day: Simulated) -> dict[str, int]:
    """Records the simulated hospital systems put on each ingestion topic."""
    counts = day.result.counts.items()
    return {k.removeprefix("sent:"): n for k, n in counts if k.startswith("sent:")}


def play(
    suite: Suite,
    end: datetime,
    *,
    disturbance: Disturbance | None = None,
    play_s: float = 0.0,
    settle_timeout_s: float = 240.0,
    env: dict[str, str] | None = None,
    delivery_timeout_s: float = 120.0,
) -> Outcome:
    """Start every service, play the seeded day ending at ``end`` (spread over at least
    ``play_s`` real seconds when > 0, so faults land mid-stream), let the suite catch up,
    and read back everything it did. ``env`` goes to every service; ``delivery_timeout_s`` is
    the simulated hospital systems' patience with one record before they send it again."""
    clock = Phases()
    suite.start(*SERVICES, env=env)
    clock.mark("services ready")
    settler = DurableSettler(suite, timeout_s=settle_timeout_s)
    began: list[float] = []

    def on_play() -> None:
        clock.mark("day set up")
        began.append(time.monotonic())
        if disturbance is not None:
            disturbance.start()

    try:
        day = simulate(
            suite.started, suite.bootstrap, suite.data_dir, seed=SEED, run_id=RUN_ID, end=end,
            scale=SCALE, window=WINDOW, formulary=FORMULARY,
            pace=86400 / play_s if play_s else 0.0, settler=settler, on_play=on_play,
            delivery_timeout_s=delivery_timeout_s,
        )  # fmt: skip
        played = time.monotonic() - began[0]
        clock.mark("day played")
    finally:
        if disturbance is not None:
            disturbance.stop()
    try:
        caught_up = time.monotonic()
        assert settler.settle(sent_records(day), say=print), "the suite did not settle"
        settled_s = time.monotonic() - caught_up
        clock.mark("settled")
    finally:
        settler.close()
    assert not day.result.problems, day.result.problems[:10]
    assert day.result.settled
    values, stock, books = stable(
        lambda: (
            indicator_values(suite.started["reporting"], *simulated_days(day.plan)),
            stock_on_hand(suite, day),
            book_balances(suite),
        )
    )
    letters = {
        (letter.header("dlt-event-type") or "?", letter.reason or "?", letter.consumer or "?")
        for letter in dead_letters(suite.bootstrap)
    }
    problems = reconciliation_problems(
        suite.started["pharmacy"], suite.started["finance"], day.county
    )
    clock.mark("read back")
    outcome = Outcome(day, values, stock, books, letters, problems, played, settled_s, caught_up)
    print(f"phases (s): {clock.seconds}")
    return outcome


class Phases:
    """How long each phase of a run took, for the test's output."""

    def __init__(self) -> None:
        self._last = time.monotonic()
        self.seconds: dict[str, float] = {}

    def mark(self, phase: str) -> None:
        now = time.monotonic()
        self.seconds[phase] = round(now - self._last, 1)
        self._last = now


def stable(read: Callable[[], Any], timeout_s: float = 60.0) -> Any:
    """What ``read`` returns once two reads two seconds apart agree (the suite settled on
    what it had claimed; a last indicator or balance may still be on its way)."""
    previous = read()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        time.sleep(2)
        current = read()
        if current == previous:
            return current
        previous = current
    raise AssertionError(f"{read} kept changing")


def stock_on_hand(suite: Suite, day: Simulated) -> Stock:
    def read(client: httpx.Client, facility_id: str) -> Stock:
        items = all_pages(client, f"/stock/{facility_id}")
        return {(facility_id, i["drug_code"]): Decimal(str(i["on_hand"])) for i in items}

    stock: Stock = {}
    for part in each_facility(day.county, suite.started["pharmacy"], read):
        stock.update(part)
    return stock


def book_balances(suite: Suite) -> Books:
    with suite.started["finance"].client(Role.FINANCE_CENTRE) as client:
        response = client.get("/ledger/balances")
        response.raise_for_status()
        return {
            (row["community_id"], row["facility_id"], row["account_code"]): (
                Decimal(str(row["debit"])),
                Decimal(str(row["credit"])),
            )
            for row in response.json()
        }


#: Indicators measuring how long people took in real seconds (a review-centre pharmacist's
#: decision after the hold, the shared pharmacy's staff starting a decoction, each played at
#: a round of the compressed day): they differ from run to run by nature, faults or not.
WALL_CLOCK_INDICATORS = (
    "review_hold_minutes_p50",
    "review_hold_minutes_p90",
    "herbal_preparation_hours",
)


def _timeless(values: dict[Key, tuple[Decimal, Decimal]]) -> dict[Key, tuple[Decimal, Decimal]]:
    return {key: v for key, v in values.items() if key[0] not in WALL_CLOCK_INDICATORS}


def _acts(outcome: Outcome) -> dict[str, int]:
    """What the simulator did, less the review and shared-pharmacy desks' steps it counted: a
    step whose answer a killed quality never sent is retried and answered 409 (already
    taken), so the desk cannot count it; the indicators (held and rejected shares, deliveries
    and failures) compare what was done."""
    counts = outcome.day.result.counts.items()
    return {key: n for key, n in counts if not key.startswith(("review:", "herbal:"))}


def differences(calm: Outcome, faulty: Outcome) -> list[str]:
    """Everything the faulty run did differently from the undisturbed one (none expected)."""
    found: list[str] = []
    if faulty.day.plan != calm.day.plan:
        found.append("the runs played different plans")
    if _acts(faulty) != _acts(calm):
        found.append(f"acts: {_acts(faulty)} != {_acts(calm)}")
    compared: list[tuple[str, dict[Any, Any], dict[Any, Any]]] = [
        ("indicator", _timeless(calm.values), _timeless(faulty.values)),
        ("stock", calm.stock, faulty.stock),
        ("book", calm.books, faulty.books),
    ]
    for what, a, b in compared:
        changed = sorted(
            (
                (key, a.get(key), b.get(key))
                for key in a.keys() | b.keys()
                if a.get(key) != b.get(key)
            ),
            key=repr,
        )
        found += [f"{what} {key}: {x} -> {y}" for key, x, y in changed[:20]]
    found += [f"dead letter not in the calm run: {d}" for d in faulty.letters - calm.letters]
    found += [f"does not reconcile: {p}" for p in faulty.problems[:10]]
    return found
