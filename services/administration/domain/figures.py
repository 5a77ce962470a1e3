"""A member's figures for a half-year, from the totals of what the domains published.

Pure domain: the service layer adds up the stored inputs over the period's months (Σ
numerators and Σ denominators of reporting's monthly cells, the audits' counts, the
delivered sessions, the bundle's settlements) into :class:`PeriodTotals`; this module turns
them into each indicator's figure for one member.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from services.administration.domain.scorecard import (
    HUNDRED,
    IndicatorLine,
    ScorecardIndicator,
    SourceKind,
)

__all__ = ["Member", "PeriodTotals", "line_for"]

_FIGURE = Decimal("0.0001")
Pair = tuple[Decimal, Decimal]


@dataclass(frozen=True)
class Member:
    facility_id: str
    name: str
    community_id: str
    facility_type: str


@dataclass
class PeriodTotals:
    """Everything published about the period, added up over its months."""

    #: (indicator, level, unit id) → (Σ numerator, Σ denominator) of reporting's month cells.
    cells: dict[tuple[str, str, str], Pair] = field(default_factory=dict)
    #: facility → (Σ reviewed, Σ irrational) of its published audits.
    audits: dict[str, Pair] = field(default_factory=dict)
    #: facility → expert sessions delivered there.
    sessions: dict[str, int] = field(default_factory=dict)
    #: community → (bundle consumed in the settled months, the calendar's share of the
    #: budget for those months).
    budgets: dict[str, Pair] = field(default_factory=dict)


def _ratio(numerator: Decimal, denominator: Decimal, factor: Decimal) -> Decimal | None:
    if denominator == 0:
        return None
    return (numerator / denominator * factor).quantize(_FIGURE, rounding=ROUND_HALF_UP)


def line_for(indicator: ScorecardIndicator, member: Member, totals: PeriodTotals) -> IndicatorLine:
    """``indicator``'s line on ``member``'s scorecard."""
    applicable = indicator.applies(member.facility_type)
    source = indicator.source
    numerator: Decimal | None = None
    denominator: Decimal | None = None
    figure: Decimal | None = None
    if source.kind is SourceKind.REPORTING:
        unit = member.facility_id if source.level == "facility" else member.community_id
        pair = totals.cells.get((source.indicator or "", source.level, unit))
        if pair is not None:
            numerator, denominator = pair
            figure = (
                (numerator * source.factor).quantize(_FIGURE)
                if source.measure == "count"
                else _ratio(numerator, denominator, source.factor)
            )
        elif source.measure == "count":
            numerator, figure = Decimal(0), Decimal(0)  # nothing published: none happened
    elif source.kind is SourceKind.AUDIT:
        if member.facility_id in totals.audits:
            denominator, numerator = totals.audits[member.facility_id]
            figure = _ratio(numerator, denominator, HUNDRED)
    elif source.kind is SourceKind.SESSIONS:
        numerator = Decimal(totals.sessions.get(member.facility_id, 0))
        figure = numerator
    elif member.community_id in totals.budgets:
        numerator, denominator = totals.budgets[member.community_id]
        figure = _ratio(numerator, denominator, HUNDRED)
    return IndicatorLine(indicator, figure, numerator, denominator, applicable)
