"""Loading and saving appraisals: the aggregate in, its rows out."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.administration.adapters.schema import AppraisalNote, AppraisalRow, ScorecardRow
from services.administration.domain.appraisal import Appraisal, AppraisalState, MemberScorecard
from services.administration.domain.periods import HalfYear

__all__ = ["AppraisalRecords"]


class AppraisalRecords:
    def __init__(self, session: Session) -> None:
        self.session = session

    def revisions(self, period: HalfYear) -> list[AppraisalRow]:
        return list(
            self.session.scalars(
                select(AppraisalRow)
                .where(AppraisalRow.period == str(period))
                .order_by(AppraisalRow.revision)
            )
        )

    def latest(self, period: HalfYear) -> tuple[Appraisal, AppraisalRow] | None:
        """The period's newest revision, with its row (who drafted and approved it)."""
        rows = self.revisions(period)
        if not rows:
            return None
        row = rows[-1]
        return self._load(period, row), row

    def _load(self, period: HalfYear, row: AppraisalRow) -> Appraisal:
        cards = self.session.scalars(
            select(ScorecardRow).where(
                ScorecardRow.period == row.period, ScorecardRow.revision == row.revision
            )
        )
        return Appraisal(
            period,
            row.revision,
            AppraisalState(row.state),
            {
                c.facility_id: MemberScorecard(
                    facility_id=c.facility_id,
                    name=c.name,
                    community_id=c.community_id,
                    facility_type=c.facility_type,
                    lines=list(c.lines),
                    computed=c.computed,
                    adjustment=c.adjustment,
                    adjustment_reason=c.adjustment_reason,
                )
                for c in cards
            },
        )

    def save(self, appraisal: Appraisal, row: AppraisalRow) -> None:
        """Write ``appraisal``'s state and scorecards over its revision's rows."""
        row.state = appraisal.state.value
        self.session.add(row)
        stored = {
            c.facility_id: c
            for c in self.session.scalars(
                select(ScorecardRow).where(
                    ScorecardRow.period == row.period, ScorecardRow.revision == row.revision
                )
            )
        }
        for gone in set(stored) - set(appraisal.scorecards):
            self.session.delete(stored[gone])
        for card in appraisal.scorecards.values():
            target = stored.get(card.facility_id) or ScorecardRow(
                period=row.period, revision=row.revision, facility_id=card.facility_id
            )
            target.name, target.community_id = card.name, card.community_id
            target.facility_type, target.lines = card.facility_type, card.lines
            target.computed, target.adjustment = card.computed, card.adjustment
            target.adjustment_reason, target.total = card.adjustment_reason, card.total
            self.session.add(target)

    def note(
        self,
        appraisal: Appraisal,
        kind: str,
        author: str,
        at: datetime,
        *,
        facility_id: str | None = None,
        text: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        self.session.add(
            AppraisalNote(
                period=str(appraisal.period),
                revision=appraisal.revision,
                facility_id=facility_id,
                kind=kind,
                author=author,
                text=text,
                detail=detail or {},
                at=at,
            )
        )

    def notes(self, period: HalfYear) -> list[AppraisalNote]:
        return list(
            self.session.scalars(
                select(AppraisalNote)
                .where(AppraisalNote.period == str(period))
                .order_by(AppraisalNote.note_id)
            )
        )
