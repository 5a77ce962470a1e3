"""A half-year's appraisal as the report reads it (绩效考核报告): one plain view model, in
the county's words and on its clock, that the HTML page and the workbook both render.

Everything comes from the stored revision (its scorecards' lines as they were drawn up), so a
report of an approved appraisal stays what was approved whatever the configuration says now.
A dimension's score is the sum of the member's line scores in it; the computed total is those
scores over the weights that counted, out of 100 (``domain/scorecard.py``), so the dimensions
add up to it only when every line counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from services.administration.adapters.appraisals import AppraisalRecords
from services.administration.adapters.schema import AppraisalRow, Community
from services.administration.domain.appraisal import Appraisal, AppraisalState, MemberScorecard
from services.administration.domain.periods import HalfYear
from services.administration.service_layer.appraisals import AppraisalNotFound
from services.administration.service_layer.unit_of_work import AdministrationUnitOfWork

__all__ = ["AppraisalReport", "MemberReport", "ReportLine", "appraisal_report", "period_title"]

STATE_NAMES = {
    AppraisalState.DRAFT: "草稿",
    AppraisalState.APPROVED: "已批准",
    AppraisalState.SUPERSEDED: "已更正",
}
FACILITY_TYPE_NAMES = {
    "county_hospital": "县人民医院",
    "tcm_hospital": "县中医院",
    "township_centre": "乡镇卫生院",
    "community_centre": "社区卫生服务中心",
    "village_clinic": "村卫生室",
}
NOT_APPLICABLE = "不适用（该类单位不考核此项）"
NO_DATA = "无数据（本期未发布，不计入）"


def period_title(period: HalfYear) -> str:
    """``2026-H1`` as the county writes it: 2026年上半年."""
    return f"{period.year}年{'上' if period.half == 1 else '下'}半年"


def _number(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


@dataclass(frozen=True)
class ReportLine:
    """One indicator of a member's scorecard: its figure and score, or why it has none."""

    dimension: str
    dimension_name: str
    indicator: str
    name: str
    figure: Decimal | None
    numerator: Decimal | None
    denominator: Decimal | None
    weight: Decimal
    score: Decimal
    applicable: bool
    counted: bool

    @property
    def reason(self) -> str | None:
        """Why the line has no score (not applicable, no data), or None when it counted."""
        if not self.applicable:
            return NOT_APPLICABLE
        return None if self.counted else NO_DATA

    @classmethod
    def of(cls, line: dict[str, Any]) -> ReportLine:
        return cls(
            dimension=str(line["dimension"]),
            dimension_name=str(line["dimension_name"]),
            indicator=str(line["indicator"]),
            name=str(line["name"]),
            figure=_number(line.get("figure")),
            numerator=_number(line.get("numerator")),
            denominator=_number(line.get("denominator")),
            weight=Decimal(str(line["weight"])),
            score=Decimal(str(line["score"])),
            applicable=bool(line["applicable"]),
            counted=bool(line["counted"]),
        )


@dataclass(frozen=True)
class MemberReport:
    facility_id: str
    name: str
    community_id: str
    community_name: str
    facility_type: str
    facility_type_name: str
    dimension_scores: dict[str, Decimal]
    computed: Decimal
    adjustment: Decimal
    adjustment_reason: str | None
    total: Decimal
    lines: list[ReportLine]


@dataclass(frozen=True)
class AppraisalReport:
    period: str
    title: str
    revision: int
    state: str
    state_name: str
    drafted_by: str
    drafted_at: datetime
    approved_by: str | None
    approved_at: datetime | None
    correction_reason: str | None
    #: Every dimension of the scorecards in their order: (code, name).
    dimensions: list[tuple[str, str]]
    members: list[MemberReport]

    @property
    def file_stem(self) -> str:
        return f"appraisal-{self.period}-r{self.revision}"


def _member(card: MemberScorecard, community_name: str) -> MemberReport:
    lines = [ReportLine.of(line) for line in card.lines]
    scores: dict[str, Decimal] = {}
    for line in lines:
        scores[line.dimension] = scores.get(line.dimension, Decimal("0.00")) + line.score
    return MemberReport(
        facility_id=card.facility_id,
        name=card.name,
        community_id=card.community_id,
        community_name=community_name,
        facility_type=card.facility_type,
        facility_type_name=FACILITY_TYPE_NAMES.get(card.facility_type, card.facility_type),
        dimension_scores=scores,
        computed=card.computed,
        adjustment=card.adjustment,
        adjustment_reason=card.adjustment_reason,
        total=card.total,
        lines=lines,
    )


def _dimensions(members: list[MemberReport]) -> list[tuple[str, str]]:
    seen: dict[str, str] = {}
    for member in members:
        for line in member.lines:
            seen.setdefault(line.dimension, line.dimension_name)
    return list(seen.items())


def _report(
    uow: AdministrationUnitOfWork, appraisal: Appraisal, row: AppraisalRow
) -> AppraisalReport:
    cards = sorted(appraisal.scorecards.values(), key=lambda c: (c.community_id, c.facility_id))
    names: dict[str, str] = {}
    for card in cards:
        if card.community_id not in names:
            community = uow.session.get(Community, card.community_id)
            names[card.community_id] = community.name if community else card.community_id
    members = [_member(card, names[card.community_id]) for card in cards]
    return AppraisalReport(
        period=str(appraisal.period),
        title=f"{period_title(appraisal.period)} 医共体成员单位绩效考核",
        revision=appraisal.revision,
        state=appraisal.state.value,
        state_name=STATE_NAMES[appraisal.state],
        drafted_by=row.drafted_by,
        drafted_at=uow.clock.local(row.drafted_at),
        approved_by=row.approved_by,
        approved_at=uow.clock.local(row.approved_at) if row.approved_at else None,
        correction_reason=row.correction_reason,
        dimensions=_dimensions(members),
        members=members,
    )


def appraisal_report(uow: AdministrationUnitOfWork, period: HalfYear) -> AppraisalReport:
    """The period's newest revision as the report shows it."""
    with uow:
        found = AppraisalRecords(uow.session).latest(period)
        if found is None:
            raise AppraisalNotFound(f"{period} has not been drafted")
        return _report(uow, *found)
