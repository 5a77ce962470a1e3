"""The self-check a run makes before it starts the quality service: every prescription the
benchmark can issue is released by the county's review rules, without a pharmacist.

Where the county reviews before dispensing, pharmacy dispenses a prescription only once
quality released it; one the rules hold waits for a pharmacist (the benchmark has none) and
one they reject is never dispensed, so either would never reach stock or the ledger and the
measurement would wait until its timeout. The generator draws from a fixed set of drugs and
quantities (``bench/county.py``: why those); this puts every combination it can draw, at
every quantity, through quality's own rule pass (``services/quality/domain/review.py``)
with the rules quality's own loader reads (``QUALITY_REVIEW_RULES``, the same environment
the service gets), for every facility type of the benchmark's county, as the service will
see them: the prescriber unknown (the benchmark loads no staff), outpatient, no age band or
pregnancy (the ``.v1`` event carries neither), no days of supply. A prescription released
with warnings (duplicate therapy, a warning pair) is released: it is dispensed at once.

It imports the quality service's domain, so it runs once at start-up, never per prescription.
"""

from __future__ import annotations

import itertools
from collections import Counter
from typing import TYPE_CHECKING, Any

from bench.county import MAX_QUANTITY, BenchCounty, combinations
from libs.events.catalogue.values import FacilityType

if TYPE_CHECKING:
    from services.quality.domain.review import ReviewRules

__all__ = ["ReviewWouldHold", "check_released", "review_before_types"]


class ReviewWouldHold(RuntimeError):
    """A prescription the benchmark can issue would not be released by the rules."""


def _rules(env: dict[str, str] | None) -> ReviewRules:
    """The rules as the quality service will load them: its own loader and settings, from
    this process's environment and the ``QUALITY_*`` entries the run passes the service."""
    from libs.platform.settings import PlatformSettings
    from services.quality.config import load_config
    from services.quality.settings import Settings

    overrides: dict[str, Any] = {
        key.removeprefix("QUALITY_").lower(): value
        for key, value in (env or {}).items()
        if key.startswith("QUALITY_")
    }
    return load_config(PlatformSettings(), Settings(**overrides)).rules


def review_before_types(env: dict[str, str] | None = None) -> frozenset[FacilityType]:
    """The facility types the rules review before dispensing (``review_before_dispensing``)."""
    return _rules(env).review_before_dispensing


def check_released(county: BenchCounty, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Raise :class:`ReviewWouldHold` naming every combination the rules would hold or
    reject; return what was checked (combinations, facility types, reviews, outcomes)."""
    from services.quality.domain.review import (
        LineUnderReview,
        PrescriptionUnderReview,
        ReviewOutcome,
        review,
    )

    rules = _rules(env)
    released = {ReviewOutcome.RELEASED, ReviewOutcome.RELEASED_WITH_WARNINGS}
    types = sorted({f.facility_type for f in county.facilities if f.facility_type is not None})
    outcomes: Counter[str] = Counter()
    problems: dict[str, str] = {}  # one line per facility type and drugs, its first failure
    for facility_type, (category, drugs) in itertools.product(types, combinations()):
        for quantities in itertools.product(range(1, MAX_QUANTITY + 1), repeat=len(drugs)):
            verdict = review(
                PrescriptionUnderReview(
                    prescription_id="RX-BENCH-CHECK",
                    facility_id="BENCH-CHECK",
                    facility_type=facility_type,
                    category=category,
                    prescriber_id=None,
                    prescriber_title=None,
                    lines=tuple(
                        LineUnderReview(n + 1, code, quantity)
                        for n, (code, quantity) in enumerate(zip(drugs, quantities, strict=True))
                    ),
                ),
                rules,
            )
            outcomes[verdict.outcome.value] += 1
            where = f"{facility_type.value} {'+'.join(drugs)}"
            if verdict.outcome not in released and where not in problems:
                findings = "; ".join(f"{f.rule}: {f.message}" for f in verdict.findings)
                problems[where] = (
                    f"{where}, packs {quantities}: {verdict.outcome.value} ({findings})"
                )
    if problems:
        shown = "\n  ".join(list(problems.values())[:20])
        raise ReviewWouldHold(
            f"{len(problems)} of the benchmark's drug combinations (by facility type) would "
            "not always be released by the review rules, so they would never be dispensed "
            f"(change bench/county.py DRUGS or MAX_QUANTITY):\n  {shown}"
        )
    return {
        "combinations": len(combinations()),
        "facility_types": [t.value for t in types],
        "reviews": sum(outcomes.values()),
        "outcomes": dict(sorted(outcomes.items())),
    }
