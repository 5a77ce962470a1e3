"""A half-year's appraisal (绩效考核) and the rules of its review and approval.

Pure domain. An appraisal is one revision of a period: drafted from the published figures,
reviewed (comments, a reviewer's adjustment of a member's total with a reason), then
approved by the management committee, after which it never changes. A correction is the
next revision, drafted afresh; approving it supersedes the one before.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from services.administration.domain.figures import Member, PeriodTotals, line_for
from services.administration.domain.periods import HalfYear
from services.administration.domain.scorecard import IndicatorLine, Scorecard, score_lines

__all__ = [
    "Appraisal",
    "AppraisalRefused",
    "AppraisalState",
    "MemberScorecard",
    "draw_up",
]

_ZERO = Decimal("0.00")


class AppraisalState(StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    SUPERSEDED = "superseded"


class AppraisalRefused(ValueError):
    """A step the appraisal's state or rules do not allow (answered 409 or 422)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class MemberScorecard:
    """A member's scorecard: every line as it was figured (kept as drawn up, so an approved
    card stays as approved whatever the configuration later says) and its total."""

    facility_id: str
    name: str
    community_id: str
    facility_type: str
    lines: list[dict[str, Any]]
    computed: Decimal
    adjustment: Decimal = _ZERO
    adjustment_reason: str | None = None

    @property
    def total(self) -> Decimal:
        """The approved figure: the computed total plus the adjustment, within 0–100."""
        return min(max(self.computed + self.adjustment, _ZERO), Decimal("100.00"))


@dataclass
class Appraisal:
    period: HalfYear
    revision: int
    state: AppraisalState
    scorecards: dict[str, MemberScorecard] = field(default_factory=dict)

    def _require_draft(self) -> None:
        if self.state is not AppraisalState.DRAFT:
            raise AppraisalRefused(
                "appraisal_not_draft",
                f"{self.period} revision {self.revision} is {self.state.value}: "
                "only a draft changes (an approved appraisal is corrected by a new revision)",
            )

    def scorecard(self, facility_id: str) -> MemberScorecard:
        card = self.scorecards.get(facility_id)
        if card is None:
            raise AppraisalRefused(
                "not_appraised", f"{facility_id} is not appraised in {self.period}"
            )
        return card

    def refresh(self, computed: dict[str, MemberScorecard]) -> None:
        """Take the figures as now published; a reviewer's adjustments stay."""
        self._require_draft()
        for facility_id, card in computed.items():
            before = self.scorecards.get(facility_id)
            if before is not None:
                card.adjustment, card.adjustment_reason = (
                    before.adjustment,
                    before.adjustment_reason,
                )
        self.scorecards = computed

    def comment(self, facility_id: str) -> None:
        self._require_draft()
        self.scorecard(facility_id)

    def adjust(self, facility_id: str, points: Decimal, reason: str, cap: Decimal) -> None:
        """A reviewer moves a member's total by ``points`` (within the cap), saying why."""
        self._require_draft()
        card = self.scorecard(facility_id)
        if not reason.strip():
            raise AppraisalRefused("reason_required", "an adjustment needs a reason")
        if abs(points) > cap:
            raise AppraisalRefused(
                "adjustment_too_large", f"an adjustment is at most {cap} points either way"
            )
        card.adjustment, card.adjustment_reason = points.quantize(_ZERO), reason.strip()

    def approve(self, today: date) -> None:
        self._require_draft()
        if not self.period.has_ended(today):
            raise AppraisalRefused(
                "period_not_ended", f"{self.period} ends on {self.period.last_day}"
            )
        if not self.scorecards:
            raise AppraisalRefused("no_members", f"{self.period} has no appraised member")
        self.state = AppraisalState.APPROVED

    def correction(self) -> Appraisal:
        """The next revision, to be drafted afresh (this one stays as it was approved)."""
        if self.state is not AppraisalState.APPROVED:
            raise AppraisalRefused(
                "appraisal_not_approved", "only the approved revision is corrected"
            )
        return Appraisal(self.period, self.revision + 1, AppraisalState.DRAFT)


def _line_view(line: IndicatorLine) -> dict[str, Any]:
    item = line.indicator

    def text(value: Decimal | None) -> str | None:
        return None if value is None else str(value)

    return {
        "dimension": item.dimension,
        "dimension_name": item.dimension_name,
        "indicator": item.code,
        "name": item.name,
        "source": item.source.kind.value,
        "figure": text(line.figure),
        "numerator": text(line.numerator),
        "denominator": text(line.denominator),
        "weight": str(item.weight),
        "direction": item.direction.value,
        "applicable": line.applicable,
        "counted": line.counted,
        "score": str(line.score),
    }


def draw_up(
    scorecard: Scorecard, members: list[Member], totals: PeriodTotals
) -> dict[str, MemberScorecard]:
    """Every member's scorecard from the period's published totals."""
    cards = {}
    for member in members:
        lines = [line_for(item, member, totals) for item in scorecard.indicators]
        cards[member.facility_id] = MemberScorecard(
            facility_id=member.facility_id,
            name=member.name,
            community_id=member.community_id,
            facility_type=member.facility_type,
            lines=[_line_view(line) for line in lines],
            computed=score_lines(lines),
        )
    return cards
