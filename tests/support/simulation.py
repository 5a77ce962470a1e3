"""Running the county simulator against a test suite, and reading back what it caused.

- :func:`simulate` plays a seeded, compressed period against the services of a ``Suite``;
- :func:`indicator_values` reads every indicator over the simulated days from the reporting
  API (flows summed over the days, levels at the last day), so two runs of the same plan —
  one fault-free, one with services killed — can be compared value for value;
- :func:`reconciliation_problems` checks that the books balance in every book and in total,
  and that every stock card reconciles (on hand = the sum of its card lines);
- :func:`dead_letters` lists every record on every dead-letter topic.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from libs.events.deadletters import DeadLetter, read_dead_letters
from libs.events.provenance import EDGE_PRODUCER
from libs.platform.auth import Role
from simulator.activity import Knobs, Plan, plan_period
from simulator.clock import SimClock
from simulator.county import County, load_county
from simulator.drivers import Endpoints, Settler
from simulator.runner import RunResult, Simulation
from tests.support.brokers import credentials_of, prefix_of, principal_of
from tests.support.services import ServiceHandle

COUNTY_TZ = ZoneInfo("Asia/Shanghai")
Key = tuple[str, str, str]  # indicator, level, unit


@dataclass(frozen=True)
class Simulated:
    county: County
    plan: Plan
    result: RunResult


def endpoints_of(
    handles: dict[str, ServiceHandle],
    bootstrap: str,
    data_dir: Any,
    *,
    delivery_timeout_s: float = 120.0,
) -> Endpoints:
    return Endpoints(
        urls={name: handle.url for name, handle in handles.items()},
        bootstrap=str(bootstrap),
        topic_prefix=prefix_of(bootstrap),
        data_dir=data_dir,
        delivery_timeout_s=delivery_timeout_s,
        kafka_credentials=principal_of(bootstrap, EDGE_PRODUCER),
    )


def simulate(
    handles: dict[str, ServiceHandle],
    bootstrap: str,
    data_dir: Any,
    *,
    seed: int = 7,
    scale: float = 0.1,
    days: int = 1,
    window: timedelta = timedelta(minutes=30),
    formulary: int = 90,
    run_id: str = "e2e",
    end: datetime | None = None,
    knobs: Knobs | None = None,
    pace: float = 0.0,
    settler: Settler | None = None,
    on_play: Callable[[], None] | None = None,
    delivery_timeout_s: float = 120.0,
) -> Simulated:
    """Play a compressed period (by default one simulated day onto the last 30 minutes).

    The plan depends on ``end`` (where the period lies in real time) besides the seed and
    the run id: give the same ``end`` to replay the very same plan."""
    county = load_county(formulary)
    plan = make_plan(county, end=end, seed=seed, scale=scale, days=days, window=window,
                     run_id=run_id, knobs=knobs)  # fmt: skip
    endpoints = endpoints_of(handles, bootstrap, data_dir, delivery_timeout_s=delivery_timeout_s)
    simulation = Simulation(
        county, plan, endpoints, pace=pace, say=lambda _: None, settler=settler, on_play=on_play
    )
    result = simulation.run(ready_timeout_s=60)
    return Simulated(county, plan, result)


def make_plan(
    county: County,
    *,
    end: datetime | None = None,
    seed: int = 7,
    scale: float = 0.1,
    days: int = 1,
    window: timedelta = timedelta(minutes=30),
    run_id: str = "e2e",
    knobs: Knobs | None = None,
) -> Plan:
    clock = SimClock.ending(end or datetime.now(UTC) - timedelta(seconds=5), days=days,
                            window=window)  # fmt: skip
    return plan_period(county, clock, seed=seed, scale=scale, knobs=knobs, run_id=run_id)


def _client(handle: ServiceHandle, role: Role = Role.COUNTY_ADMIN) -> httpx.Client:
    return handle.client(role)


def all_pages(client: httpx.Client, path: str, **params: Any) -> list[Any]:
    items: list[Any] = []
    while True:
        response = client.get(path, params={**params, "limit": 500, "offset": len(items)})
        response.raise_for_status()
        page = response.json()
        items += page["items"]
        if not page["items"] or len(items) >= page["total"]:
            return items


def simulated_days(plan: Plan) -> tuple[date, date]:
    """The county's calendar days the period's business times fall on."""
    clock = plan.clock
    return (
        clock.real(0).astimezone(COUNTY_TZ).date(),
        clock.real(clock.seconds).astimezone(COUNTY_TZ).date(),
    )


def indicator_values(
    reporting: ServiceHandle, first: date, last: date
) -> dict[Key, tuple[Decimal, Decimal]]:
    """Every indicator at every level and unit over the days ``first``..``last``:
    ``(numerator, denominator)`` summed over the days for flows, the last day's for levels."""
    values: dict[Key, tuple[Decimal, Decimal]] = {}
    with _client(reporting) as client:
        for ind in all_pages(client, "/indicators"):
            for level in ind["levels"]:
                series = all_pages(
                    client,
                    f"/indicators/{ind['code']}/series",
                    level=level,
                    period_kind="day",
                    **{"from": first.isoformat(), "to": last.isoformat()},
                )
                for unit in series:
                    points = unit["points"]
                    if not points:
                        continue
                    chosen = [points[-1]] if ind["behaviour"] == "level" else points
                    values[(ind["code"], level, unit["unit_id"])] = (
                        sum((Decimal(str(p["numerator"])) for p in chosen), Decimal(0)),
                        sum((Decimal(str(p["denominator"])) for p in chosen), Decimal(0)),
                    )
    return values


def journal(finance: ServiceHandle, entry_type: str) -> list[dict[str, Any]]:
    with _client(finance, Role.FINANCE_CENTRE) as client:
        return all_pages(client, "/ledger/journal", entry_type=entry_type)


def ids_in_memos(entries: list[dict[str, Any]], word: str) -> set[str]:
    """The ids named after ``word`` in the entries' memos (e.g. ``Prescription RX-1 ...``)."""
    pattern = re.compile(rf"{word} (\S+)")
    return {m.group(1) for e in entries if (m := pattern.search(e.get("memo") or ""))}


def reconciliation_problems(
    pharmacy: ServiceHandle, finance: ServiceHandle, county: County
) -> list[str]:
    """What does not reconcile (empty when everything does): the trial balance of the county,
    of each community, of each pool and of each member; every book's debits and credits; and
    every stock card of every facility against the lots' balances."""
    problems: list[str] = []
    with _client(finance, Role.FINANCE_CENTRE) as books:
        scopes: list[dict[str, Any]] = [{}]
        scopes += [{"community_id": c} for c in county.lead_of]
        scopes += [{"community_id": c, "pool": "true"} for c in county.lead_of]
        scopes += [{"facility_id": f.facility_id} for f in county.facilities]
        for scope in scopes:
            trial = books.get("/ledger/trial-balance", params=scope)
            trial.raise_for_status()
            body = trial.json()
            if Decimal(str(body["difference"])) != 0:
                problems.append(f"trial balance {scope}: difference {body['difference']}")
        response = books.get("/ledger/balances")
        response.raise_for_status()
        per_book: dict[tuple[Any, Any], Decimal] = {}
        for row in response.json():
            book = (row["community_id"], row["facility_id"])
            delta = Decimal(str(row["debit"])) - Decimal(str(row["credit"]))
            per_book[book] = per_book.get(book, Decimal(0)) + delta
        problems += [f"book {book} off by {d}" for book, d in per_book.items() if d != 0]
    problems += [p for found in each_facility(county, pharmacy, _stock_problems) for p in found]
    return problems


def each_facility(
    county: County, pharmacy: ServiceHandle, read: Callable[[httpx.Client, str], Any]
) -> list[Any]:
    """``read(client, facility_id)`` for every facility, several at once (hundreds of small
    requests: done one by one they took a test ten seconds)."""

    def one(facility_id: str) -> Any:
        with _client(pharmacy, Role.PHARMACY_CENTRE) as client:
            return read(client, facility_id)

    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(one, [f.facility_id for f in county.facilities]))


def _stock_problems(stock: httpx.Client, facility_id: str) -> list[str]:
    problems = []
    for item in all_pages(stock, f"/stock/{facility_id}"):
        code = item["drug_code"]
        response = stock.get(f"/stock/{facility_id}/drugs/{code}/reconciliation")
        response.raise_for_status()
        card = response.json()
        if not card["reconciles"] or card["on_hand"] != item["on_hand"]:
            problems.append(f"stock card {facility_id}/{code}: {card}")
    return problems


def dead_letters(bootstrap: str) -> list[DeadLetter]:
    """Every record on every dead-letter topic of the test's namespace."""
    return read_dead_letters(
        bootstrap, prefix=prefix_of(bootstrap), credentials=credentials_of(bootstrap)
    )
