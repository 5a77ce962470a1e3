"""``python -m simulator run|plan|report`` — a county in a box.

    python -m simulator run --days 1 --seed 7 --scale 0.1 --window 2h
    python -m simulator run --hours 2 --scale 0.05
    python -m simulator plan --days 1 --seed 7            # what would happen, as counts
    python -m simulator report --out county-report.html

``run`` plays a seeded, simulated period against the running suite (``make run``): visits and
prescriptions onto the ingestion topics (through the gateway for the member systems of
infra/gateway/systems.yaml, when it runs), and the people at the desks (pharmacists, referral
desks, clinic nurses, HR) over the admin HTTP APIs. The period ends now; ``--window`` lays it
onto fewer real hours (a compressed day). ``report`` writes the county report from the
reporting service's API. Addresses and keys come from the same environment the services read
(``KAFKA_BOOTSTRAP_SERVERS``, ``KAFKA_TOPIC_PREFIX``, ``DATA_DIR``, ``<SERVICE>_HTTP_PORT``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from libs.platform.auth import parse_ttl
from simulator.activity import Knobs, plan_period
from simulator.clock import COUNTY_TZ, SimClock
from simulator.county import load_county


def period_end(text: str) -> datetime:
    """``--end``: an ISO date or instant (county time when it names no zone), not in the
    future; the default is just now."""
    if not text:
        return datetime.now(UTC) - timedelta(seconds=5)
    try:
        end = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"--end {text!r}: not an ISO date or time") from None
    if end.tzinfo is None:
        end = end.replace(tzinfo=COUNTY_TZ)
    if end > datetime.now(UTC):
        raise ValueError(f"--end {text!r} is in the future: business times never are")
    return end.astimezone(UTC)


def _plan(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    end = period_end(args.end)
    window = parse_ttl(args.window) if args.window else None
    clock = SimClock.ending(end, days=args.days, hours=args.hours, window=window)
    county = load_county(args.formulary)
    run_id = args.run_id or end.strftime("%y%m%d%H%M%S")
    plan = plan_period(
        county, clock, seed=args.seed, scale=args.scale, knobs=args.knobs, run_id=run_id
    )
    return county, plan


def knobs_of(settings: list[str]) -> Knobs:
    """``activity.Knobs`` with ``name=value`` settings (a tuple as ``a,b,c``); a name that
    is not a knob, or a value that is not a number, is an error that says which."""
    fields = {f.name: f for f in dataclasses.fields(Knobs)}
    values: dict[str, Any] = {}
    for setting in settings:
        name, _, text = setting.partition("=")
        if name not in fields:
            raise ValueError(f"--knob {name}: not a knob (one of {', '.join(sorted(fields))})")
        default = getattr(Knobs(), name)
        try:
            if isinstance(default, tuple):
                values[name] = tuple(float(part) for part in text.split(","))
            else:
                values[name] = type(default)(text)
        except ValueError:
            raise ValueError(f"--knob {name}: {text!r} is not a {type(default).__name__}") from None
    return Knobs(**values)


def run(args: argparse.Namespace) -> int:
    from simulator.drivers import Endpoints
    from simulator.runner import Simulation

    county, plan = _plan(args)

    def say(message: str) -> None:
        if not args.quiet:
            print(f"[simulator] {message}", flush=True)

    print(
        f"[simulator] run {plan.run_id}: seed {plan.seed}, {plan.clock.span} simulated onto the "
        f"last {plan.clock.window}, {len(plan.acts)} acts "
        f"({plan.counts.get('VisitAct', 0)} visits, "
        f"{plan.counts.get('PrescriptionAct', 0)} prescriptions)",
        flush=True,
    )
    simulation = Simulation(county, plan, Endpoints.from_environment(), pace=args.pace, say=say)
    result = simulation.run(ready_timeout_s=args.ready_timeout)
    print("[simulator] done: " + json.dumps(result.summary(), ensure_ascii=False), flush=True)
    for problem in result.problems[:20]:
        print(f"[simulator]   {problem}", flush=True)
    print(
        "[simulator] the county report: python -m simulator report --out county-report.html",
        flush=True,
    )
    return 0


def plan(args: argparse.Namespace) -> int:
    _, planned = _plan(args)
    print(
        json.dumps(
            {
                "run_id": planned.run_id,
                "counts": planned.counts,
                "opening_lots": len(planned.opening_stock),
                "sessions": len(planned.sessions),
            },
            indent=2,
        )
    )
    return 0


def report(args: argparse.Namespace) -> int:
    from simulator.drivers import Endpoints
    from simulator.report import write_report

    path = write_report(Endpoints.from_environment(), Path(args.out), days=args.days)
    print(f"[simulator] wrote {path}")
    return 0


def _period_options(sub: argparse.ArgumentParser) -> None:
    """The options of ``run`` and ``plan``: the simulated period and its volume."""
    sub.add_argument("--days", type=int, default=0)
    sub.add_argument("--hours", type=float, default=0.0)
    sub.add_argument("--seed", type=int, default=1)
    sub.add_argument(
        "--scale", type=float, default=0.1, help="volume: 1.0 is about 2,400 visits a day"
    )
    sub.add_argument(
        "--window",
        default="",
        help="real time the period is laid onto, e.g. 2h (default: its length)",
    )
    sub.add_argument(
        "--end",
        default="",
        help="when the simulated period ends, e.g. 2026-07-01 for the first half-year "
        "(county time; default: now)",
    )
    sub.add_argument("--formulary", type=int, default=200, help="catalogue size")
    sub.add_argument(
        "--run-id",
        default="",
        help="letters and digits; the same seed and run id give the same events",
    )
    sub.add_argument(
        "--pace",
        type=float,
        default=0.0,
        help="simulated seconds per real second (0: as fast as the suite goes)",
    )
    sub.add_argument(
        "--knob",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set one of activity.Knobs, e.g. antibiotic_share=0.3 (repeatable)",
    )
    sub.add_argument("--quiet", action="store_true")
    sub.add_argument(
        "--ready-timeout", type=float, default=180.0, help="seconds to wait for the suite"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m simulator",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("run", "plan"):
        _period_options(commands.add_parser(name, help=f"{name} a simulated period"))
    rep = commands.add_parser("report", help="write the county report (HTML)")
    rep.add_argument("--out", default="county-report.html")
    rep.add_argument("--days", type=int, default=30, help="how many days of daily series")
    args = parser.parse_args(argv)
    if args.command in ("run", "plan"):
        if not args.days and not args.hours:
            args.days = 1
        if args.run_id and not args.run_id.isalnum():
            parser.error("--run-id takes letters and digits only")
        try:
            period_end(args.end)
        except ValueError as exc:
            parser.error(str(exc))
        try:
            args.knobs = knobs_of(args.knob)
        except ValueError as exc:
            parser.error(str(exc))
    return {"run": run, "plan": plan, "report": report}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
