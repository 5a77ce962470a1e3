"""``/appraisals``: the members' half-year appraisal (绩效考核) — draft, review, approve,
correct — and every member's scorecard with the figures behind it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field

from libs.platform.http.errors import ApiError
from libs.platform.http.security import ensure_facility
from services.administration.adapters.appraisals import AppraisalRecords
from services.administration.adapters.schema import AppraisalRow
from services.administration.api.deps import (
    REFUSALS,
    AdministrationUow,
    Commenters,
    Committee,
    Overseers,
    ScorecardReaders,
    half_year,
    refusals,
)
from services.administration.domain.appraisal import Appraisal, MemberScorecard
from services.administration.service_layer import appraisals

router = APIRouter(prefix="/appraisals", tags=["appraisal"], responses=REFUSALS)


class CommentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=2000)


class AdjustmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    points: Decimal = Field(ge=-100, le=100, max_digits=5, decimal_places=2)
    reason: str = Field(min_length=1, max_length=2000)


class CorrectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=2000)


def card_view(card: MemberScorecard) -> dict[str, Any]:
    return {
        "facility_id": card.facility_id,
        "name": card.name,
        "community_id": card.community_id,
        "facility_type": card.facility_type,
        "computed": str(card.computed),
        "adjustment": str(card.adjustment),
        "adjustment_reason": card.adjustment_reason,
        "total": str(card.total),
        "lines": card.lines,
    }


def appraisal_view(appraisal: Appraisal, row: AppraisalRow | None) -> dict[str, Any]:
    cards = sorted(appraisal.scorecards.values(), key=lambda c: c.facility_id)
    return {
        "period": str(appraisal.period),
        "revision": appraisal.revision,
        "state": appraisal.state.value,
        "drafted_by": row.drafted_by if row else None,
        "computed_at": row.computed_at.isoformat() if row else None,
        "approved_at": row.approved_at.isoformat() if row and row.approved_at else None,
        "approved_by": row.approved_by if row else None,
        "correction_reason": row.correction_reason if row else None,
        "scorecards": [card_view(c) for c in cards],
    }


@router.post("/{period}", status_code=status.HTTP_201_CREATED, summary="Draft a half-year")
def draft(period: str, who: Committee, uow: AdministrationUow) -> dict[str, Any]:
    with refusals():
        return appraisal_view(appraisals.draft(uow, half_year(period), who.subject), None)


@router.get("/{period}", summary="A half-year's newest revision, every member's scorecard")
def read(period: str, _: Overseers, uow: AdministrationUow) -> dict[str, Any]:
    with uow:
        found = AppraisalRecords(uow.session).latest(half_year(period))
        if found is None:
            raise ApiError(404, "not_found", f"{period} has not been drafted")
        return appraisal_view(*found)


@router.get("/{period}/scorecards/{facility_id}", summary="One member's scorecard")
def scorecard(
    period: str, facility_id: str, who: ScorecardReaders, uow: AdministrationUow
) -> dict[str, Any]:
    ensure_facility(who, facility_id)
    with uow, refusals():
        found = AppraisalRecords(uow.session).latest(half_year(period))
        if found is None:
            raise ApiError(404, "not_found", f"{period} has not been drafted")
        appraisal, _ = found
        view = card_view(appraisal.scorecard(facility_id))
        state = appraisal.state.value
        return {"period": period, "revision": appraisal.revision, "state": state, **view}


@router.get("/{period}/notes", summary="The appraisal's audit trail")
def notes(period: str, _: Overseers, uow: AdministrationUow) -> list[dict[str, Any]]:
    with uow:
        return [
            {
                "revision": n.revision,
                "facility_id": n.facility_id,
                "kind": n.kind,
                "author": n.author,
                "text": n.text,
                "detail": n.detail,
                "at": n.at.isoformat(),
            }
            for n in AppraisalRecords(uow.session).notes(half_year(period))
        ]


@router.post("/{period}/recompute", summary="Take the figures published by now (a draft)")
def recompute(period: str, who: Committee, uow: AdministrationUow) -> dict[str, Any]:
    with refusals():
        return appraisal_view(appraisals.recompute(uow, half_year(period), who.subject), None)


@router.post(
    "/{period}/scorecards/{facility_id}/comments",
    status_code=status.HTTP_201_CREATED,
    summary="Comment on a member's scorecard (the committee, or the member's own staff)",
)
def comment(
    period: str, facility_id: str, body: CommentIn, who: Commenters, uow: AdministrationUow
) -> dict[str, str]:
    ensure_facility(who, facility_id)
    with refusals():
        appraisals.comment(uow, half_year(period), facility_id, who.subject, body.text)
    return {"status": "recorded"}


@router.put(
    "/{period}/scorecards/{facility_id}/adjustment",
    summary="Adjust a member's total, with the reason (audited)",
)
def adjust(
    period: str, facility_id: str, body: AdjustmentIn, who: Committee, uow: AdministrationUow
) -> dict[str, Any]:
    with refusals():
        appraisal = appraisals.adjust(
            uow, half_year(period), facility_id, body.points, body.reason, who.subject
        )
    return card_view(appraisal.scorecards[facility_id])


@router.post("/{period}/approve", summary="Approve the draft (immutable, announced)")
def approve(period: str, who: Committee, uow: AdministrationUow) -> dict[str, Any]:
    with refusals():
        event = appraisals.approve(uow, half_year(period), who.subject)
    return event.model_dump(mode="json")


@router.post(
    "/{period}/corrections",
    status_code=status.HTTP_201_CREATED,
    summary="Correct an approved half-year: a new revision to review and approve",
)
def correct(
    period: str, body: CorrectionIn, who: Committee, uow: AdministrationUow
) -> dict[str, Any]:
    with refusals():
        appraisal = appraisals.correct(uow, half_year(period), body.reason, who.subject)
    return appraisal_view(appraisal, None)
