"""The command line of ``python -m bench``: which sections, at which sizes and loads."""

from __future__ import annotations

import argparse
from pathlib import Path

from bench.cluster import BROKERS

__all__ = ["parse_arguments"]


def _counts(text: str) -> list[int]:
    counts = [int(part) for part in text.split(",") if part.strip()]
    if not counts or counts != sorted(set(counts)) or counts[0] < 1:
        raise argparse.ArgumentTypeError("ascending whole numbers >= 1, e.g. 1,2")
    return counts


def parse_arguments(argv: list[str] | None, description: str | None) -> argparse.Namespace:
    """The benchmark's command line (``python -m bench --help``)."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=description)
    parser.add_argument("--broker", choices=BROKERS, default="tansu")
    parser.add_argument("--prescriptions", type=int, default=6000)
    parser.add_argument("--large", type=int, default=100, help="large scale; 0 skips")
    parser.add_argument(
        "--latency-rates",
        type=lambda text: [float(r) for r in text.split(",")],
        default=[25.0, 200.0],
        help="offered loads (prescriptions/s), comma-separated",
    )
    parser.add_argument("--latency-seconds", type=float, default=20.0)
    parser.add_argument("--http-seconds", type=float, default=10.0)
    parser.add_argument(
        "--pharmacy-processes",
        type=_counts,
        default=[1, 2],
        help="end to end with pharmacy as each of these many processes in its consumer group, "
        "one after the other in the same run (one-county scale; the large scale and the other "
        "measurements use the first), comma-separated, ascending",
    )
    parser.add_argument(
        "--only",
        choices=("gateway", "pipeline"),
        help="run this section alone (gateway: (f); pipeline: (a) to (e), no gateway)",
    )
    parser.add_argument(
        "--without-review",
        dest="review",
        action="store_false",
        help="(a) to (e) without the quality service: pharmacy holds no review policy and "
        "dispenses every prescription at once (the figures without the review hop)",
    )
    parser.add_argument(
        "--gateway-messages", type=int, default=4000, help="(f): messages per way in"
    )
    parser.add_argument("--gateway-clients", type=int, default=4, help="(f): concurrent clients")
    parser.add_argument(
        "--gateway-facilities", type=int, default=4, help="(f): member systems (one a facility)"
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    return parser.parse_args(argv)
