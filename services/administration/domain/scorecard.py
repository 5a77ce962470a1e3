"""The county's scorecard (``infra/administration/appraisal.yaml``) and how a figure scores.

Pure domain. A scorecard is dimensions of indicators; each indicator names where its figure
comes from (a :class:`Source`), whom it applies to, its weight and its scoring bands. A
member's total is the weighted score of the indicators that apply to it and have a figure,
scaled to 100 over their weights, so a member is never marked down for a figure no domain
could give it (a clinic without a published audit) nor up for one it lacks.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

__all__ = [
    "Band",
    "Direction",
    "IndicatorLine",
    "Scorecard",
    "ScorecardIndicator",
    "Source",
    "SourceKind",
    "parse_scorecard",
    "score_lines",
]

HUNDRED = Decimal(100)
_CENT = Decimal("0.01")


class SourceKind(StrEnum):
    REPORTING = "reporting"  # reporting.indicator.updated.v1 month cells
    AUDIT = "audit"  # quality.audit.completed.v1
    SESSIONS = "sessions"  # staffing.session.delivered.v1
    BUDGET = "budget"  # finance.budget.opened.v1 / settled.v1


class Direction(StrEnum):
    HIGHER = "higher"
    LOWER = "lower"


@dataclass(frozen=True)
class Source:
    kind: SourceKind
    indicator: str | None = None  # reporting only
    level: str = "facility"  # reporting: facility (the member) or community (its community)
    measure: str = "ratio"  # reporting: ratio (Σnum ÷ Σden × factor) or count (Σnum)
    factor: Decimal = Decimal(1)


@dataclass(frozen=True)
class Band:
    bound: Decimal
    points: Decimal


@dataclass(frozen=True)
class ScorecardIndicator:
    code: str
    name: str
    dimension: str
    dimension_name: str
    source: Source
    weight: Decimal
    direction: Direction
    bands: tuple[Band, ...]
    applies_to: frozenset[str] | None

    def applies(self, facility_type: str) -> bool:
        return self.applies_to is None or facility_type in self.applies_to

    def points(self, figure: Decimal) -> Decimal:
        """The share of the weight ``figure`` earns: the first band it reaches."""
        for band in self.bands:
            reached = (
                figure >= band.bound
                if self.direction is Direction.HIGHER
                else (figure <= band.bound)
            )
            if reached:
                return band.points
        return Decimal(0)


@dataclass(frozen=True)
class Scorecard:
    appraised_types: frozenset[str]
    max_adjustment: Decimal
    indicators: tuple[ScorecardIndicator, ...]

    def reporting_indicators(self) -> dict[str, set[str]]:
        """The reporting indicators the scorecard reads, with the levels it reads them at."""
        wanted: dict[str, set[str]] = {}
        for item in self.indicators:
            if item.source.kind is SourceKind.REPORTING and item.source.indicator:
                wanted.setdefault(item.source.indicator, set()).add(item.source.level)
        return wanted


@dataclass(frozen=True)
class IndicatorLine:
    """One indicator on one member's scorecard: the figure behind it and what it scored."""

    indicator: ScorecardIndicator
    figure: Decimal | None
    numerator: Decimal | None
    denominator: Decimal | None
    applicable: bool

    @property
    def counted(self) -> bool:
        return self.applicable and self.figure is not None

    @property
    def score(self) -> Decimal:
        if not self.counted or self.figure is None:
            return Decimal(0)
        return (self.indicator.weight * self.indicator.points(self.figure)).quantize(_CENT)


def score_lines(lines: list[IndicatorLine]) -> Decimal:
    """The total out of 100 of a member's lines (0 when none counts)."""
    weights = sum((line.indicator.weight for line in lines if line.counted), Decimal(0))
    if not weights:
        return Decimal("0.00")
    earned = sum((line.score for line in lines), Decimal(0))
    return (earned / weights * HUNDRED).quantize(_CENT, rounding=ROUND_HALF_UP)


def _decimal(value: Any, what: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        raise ValueError(f"{what}: {value!r} is not a number") from None
    if not number.is_finite():
        raise ValueError(f"{what}: {value!r} is not a number")
    return number


def _source(doc: dict[str, Any], where: str) -> Source:
    kind = SourceKind(str(doc.get("kind")))
    if kind is not SourceKind.REPORTING:
        return Source(kind)
    indicator = str(doc.get("indicator") or "")
    level, measure = str(doc.get("level", "facility")), str(doc.get("measure", "ratio"))
    if (
        not indicator
        or level not in ("facility", "community")
        or measure
        not in (
            "ratio",
            "count",
        )
    ):
        raise ValueError(
            f"{where}: a reporting source names an indicator, a level "
            "(facility, community) and a measure (ratio, count)"
        )
    factor = _decimal(doc.get("factor", 1), f"{where} factor")
    return Source(kind, indicator, level, measure, factor)


def _indicator(doc: dict[str, Any], dimension: dict[str, Any]) -> ScorecardIndicator:
    where = f"indicator {doc.get('code')!r}"
    bands = tuple(
        Band(_decimal(b["bound"], where), _decimal(b["points"], where)) for b in doc["bands"]
    )
    if not bands or any(not 0 <= b.points <= 1 for b in bands):
        raise ValueError(f"{where}: bands give points between 0 and 1")
    weight = _decimal(doc["weight"], where)
    if weight <= 0:
        raise ValueError(f"{where}: the weight must be positive")
    direction = Direction(doc["direction"])
    ordered = sorted(bands, key=lambda b: b.bound, reverse=direction is Direction.HIGHER)
    applies = doc.get("applies_to")
    return ScorecardIndicator(
        code=str(doc["code"]),
        name=str(doc.get("name") or doc["code"]),
        dimension=str(dimension["code"]),
        dimension_name=str(dimension.get("name") or dimension["code"]),
        source=_source(doc["source"], where),
        weight=weight,
        direction=direction,
        bands=tuple(ordered),
        applies_to=frozenset(str(t) for t in applies) if applies else None,
    )


def parse_scorecard(doc: dict[str, Any]) -> Scorecard:
    """Validate the scorecard document; raises ``ValueError`` naming what is wrong."""
    try:
        indicators = tuple(
            _indicator(item, dimension)
            for dimension in doc["dimensions"]
            for item in dimension["indicators"]
        )
        types = frozenset(str(t) for t in doc["appraised_facility_types"])
        max_adjustment = _decimal(doc.get("max_adjustment", 10), "max_adjustment")
    except (KeyError, TypeError) as exc:
        raise ValueError(f"the appraisal scorecard lacks {exc}") from None
    codes = [i.code for i in indicators]
    if len(codes) != len(set(codes)):
        raise ValueError("an indicator code appears twice in the scorecard")
    if not indicators or not types or not 0 <= max_adjustment <= 100:
        raise ValueError("a scorecard has indicators, appraised types and an adjustment cap")
    return Scorecard(types, max_adjustment, indicators)
