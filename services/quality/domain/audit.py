"""Prescription audit (处方点评, 《医院处方点评管理规范（试行）》): which of a member's
prescriptions a month's sample holds, when the month may be drawn, and what the reviewers'
verdicts add up to.

The sample is a pure function of (seed, month, facility, the set of dispensed prescription
ids): each id is ranked by ``sha256("seed:month:facility:id")`` and the first n are drawn.
Anyone holding the seed and the month's ids draws the same sample, whatever order the ids
come in, and the sample of one member does not move when another member's prescriptions do.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from services.quality.domain.audit_standard import RATIONAL, AuditStandard

__all__ = [
    "AuditTally",
    "PrescriberTally",
    "SampledVerdict",
    "draw_sample",
    "drawable_from",
    "month_of",
    "parse_month",
    "previous_month",
    "sample_size",
    "tally",
]


def parse_month(text: str) -> str:
    """``text`` as a month ``YYYY-MM`` of the years 2000 to 2099; ValueError otherwise."""
    parts = text.split("-")
    if len(parts) != 2 or len(parts[0]) != 4 or len(parts[1]) != 2 or not text.isascii():
        raise ValueError(f"{text[:20]!r} is not a month (YYYY-MM)")
    try:
        year, month = int(parts[0]), int(parts[1])
    except ValueError:
        raise ValueError(f"{text[:20]!r} is not a month (YYYY-MM)") from None
    if not (2000 <= year <= 2099 and 1 <= month <= 12):
        raise ValueError(f"{text!r} is not a month of 2000 to 2099 (YYYY-MM)")
    return f"{year:04d}-{month:02d}"


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _first_day(month: str) -> date:
    year, number = (int(p) for p in month.split("-"))
    return date(year, number, 1)


def previous_month(day: date) -> str:
    """The month before the one ``day`` is in."""
    return month_of(day.replace(day=1) - timedelta(days=1))


def drawable_from(month: str, standard: AuditStandard) -> date:
    """The first county day the month may be drawn: ``draw_after_days`` after it ended, when
    every prescription issued in it has been dispensed or has lapsed."""
    start = _first_day(month)
    following = date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return following + timedelta(days=standard.draw_after_days)


def sample_size(prescriptions: int, standard: AuditStandard) -> int:
    """How many of a member's ``prescriptions`` in a month are sampled: no fewer than the
    standard's minimum (100) and no less than its rate (1‰), all of them when fewer."""
    by_rate = math.ceil(prescriptions * standard.per_mille / 1000)
    return min(prescriptions, max(standard.minimum_per_month, by_rate))


def _rank(seed: str, month: str, facility_id: str, prescription_id: str) -> str:
    return hashlib.sha256(f"{seed}:{month}:{facility_id}:{prescription_id}".encode()).hexdigest()


def draw_sample(
    seed: str, month: str, facility_id: str, prescription_ids: Iterable[str], size: int
) -> list[str]:
    """The first ``size`` of the ids by their hash rank (ties, which sha256 makes
    impossible in practice, by id): the month's sample, in the order reviewers work it."""
    unique = set(prescription_ids)
    ranked = sorted(unique, key=lambda rx: (_rank(seed, month, facility_id, rx), rx))
    return ranked[:size]


@dataclass(frozen=True)
class SampledVerdict:
    """One sampled prescription and what the reviewer decided (``None``: not yet)."""

    prescription_id: str
    prescriber_id: str | None
    verdict: str | None
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class PrescriberTally:
    prescriber_id: str | None
    sampled: int
    irrational: int


@dataclass(frozen=True)
class AuditTally:
    """What a member's month adds up to (what is published)."""

    sampled: int
    reviewed: int
    irrational: int
    by_category: dict[str, int]
    by_reason: dict[tuple[str, str], int]
    """(category, sub-reason) → prescriptions."""
    by_prescriber: list[PrescriberTally]

    @property
    def undecided(self) -> int:
        return self.sampled - self.reviewed


def tally(items: Sequence[SampledVerdict]) -> AuditTally:
    """Counts over the sample: reviewed (a verdict given), irrational (any verdict but
    rational), per category, per sub-reason and per prescriber (by id; an unnamed one
    counted together under ``None``)."""
    decided = [i for i in items if i.verdict is not None]
    irrational = [i for i in decided if i.verdict != RATIONAL]
    by_category = Counter(str(i.verdict) for i in irrational)
    by_reason = Counter((str(i.verdict), reason) for i in irrational for reason in i.reasons)
    sampled_by = Counter(i.prescriber_id for i in items)
    irrational_by = Counter(i.prescriber_id for i in irrational)
    prescribers = sorted(sampled_by, key=lambda p: (p is None, p or ""))
    return AuditTally(
        sampled=len(items),
        reviewed=len(decided),
        irrational=len(irrational),
        by_category=dict(sorted(by_category.items())),
        by_reason=dict(sorted(by_reason.items())),
        by_prescriber=[
            PrescriberTally(p, sampled_by[p], irrational_by.get(p, 0)) for p in prescribers
        ],
    )
