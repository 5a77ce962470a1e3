"""The appraisal's use cases: draft, recompute, comment, adjust, approve, correct.

Each is one unit of work: load the period's newest revision, one step of the aggregate
(``domain/appraisal.py``), save it with a note in the audit trail, and, on approval,
announce it through the outbox in the same transaction.
"""

from __future__ import annotations

from decimal import Decimal

from libs.events.catalogue.administration import AppraisalApproved, MemberScore
from services.administration.adapters.appraisals import AppraisalRecords
from services.administration.adapters.schema import AppraisalRow
from services.administration.domain.appraisal import (
    Appraisal,
    AppraisalRefused,
    AppraisalState,
    draw_up,
)
from services.administration.domain.periods import HalfYear
from services.administration.service_layer.totals import appraised_members, period_totals
from services.administration.service_layer.unit_of_work import AdministrationUnitOfWork

__all__ = [
    "AppraisalNotFound",
    "adjust",
    "approve",
    "comment",
    "correct",
    "draft",
    "recompute",
]


class AppraisalNotFound(LookupError):
    pass


def _figures(uow: AdministrationUnitOfWork, appraisal: Appraisal) -> None:
    members = appraised_members(uow.session, appraisal.period, uow.scorecard)
    totals = period_totals(uow.session, appraisal.period)
    appraisal.refresh(draw_up(uow.scorecard, members, totals))


def _newest(uow: AdministrationUnitOfWork, period: HalfYear) -> tuple[Appraisal, AppraisalRow]:
    found = AppraisalRecords(uow.session).latest(period)
    if found is None:
        raise AppraisalNotFound(f"{period} has not been drafted")
    return found


def _new_revision(
    uow: AdministrationUnitOfWork, appraisal: Appraisal, by: str, reason: str | None
) -> AppraisalRow:
    now = uow.now()
    _figures(uow, appraisal)
    row = AppraisalRow(
        period=str(appraisal.period),
        revision=appraisal.revision,
        drafted_at=now,
        drafted_by=by,
        computed_at=now,
        correction_reason=reason,
    )
    records = AppraisalRecords(uow.session)
    records.save(appraisal, row)
    records.note(appraisal, "drafted", by, now, text=reason)
    return row


def draft(uow: AdministrationUnitOfWork, period: HalfYear, by: str) -> Appraisal:
    """The period's first revision, from the figures published so far."""
    with uow:
        if AppraisalRecords(uow.session).latest(period) is not None:
            raise AppraisalRefused(
                "appraisal_exists", f"{period} is already drafted (correct it instead)"
            )
        appraisal = Appraisal(period, 1, AppraisalState.DRAFT)
        _new_revision(uow, appraisal, by, None)
        uow.commit()
        return appraisal


def recompute(uow: AdministrationUnitOfWork, period: HalfYear, by: str) -> Appraisal:
    """The draft again from the figures published by now (adjustments stay)."""
    with uow:
        appraisal, row = _newest(uow, period)
        _figures(uow, appraisal)
        row.computed_at = uow.now()
        records = AppraisalRecords(uow.session)
        records.save(appraisal, row)
        records.note(appraisal, "recomputed", by, row.computed_at)
        uow.commit()
        return appraisal


def comment(
    uow: AdministrationUnitOfWork, period: HalfYear, facility_id: str, by: str, text: str
) -> None:
    with uow:
        appraisal, _ = _newest(uow, period)
        appraisal.comment(facility_id)
        AppraisalRecords(uow.session).note(
            appraisal, "comment", by, uow.now(), facility_id=facility_id, text=text
        )
        uow.commit()


def adjust(
    uow: AdministrationUnitOfWork,
    period: HalfYear,
    facility_id: str,
    points: Decimal,
    reason: str,
    by: str,
) -> Appraisal:
    with uow:
        appraisal, row = _newest(uow, period)
        before = appraisal.scorecard(facility_id).adjustment
        appraisal.adjust(facility_id, points, reason, uow.scorecard.max_adjustment)
        records = AppraisalRecords(uow.session)
        records.save(appraisal, row)
        detail = {"before": str(before), "after": str(appraisal.scorecards[facility_id].adjustment)}
        records.note(
            appraisal,
            "adjusted",
            by,
            uow.now(),
            facility_id=facility_id,
            text=reason,
            detail=detail,
        )
        uow.commit()
        return appraisal


def approve(uow: AdministrationUnitOfWork, period: HalfYear, by: str) -> AppraisalApproved:
    """The committee approves the draft: immutable from now on, announced, and the revision
    it corrects (if any) superseded."""
    with uow:
        appraisal, row = _newest(uow, period)
        appraisal.approve(uow.clock.today())
        now = uow.now()
        row.approved_at, row.approved_by = now, by
        records = AppraisalRecords(uow.session)
        records.save(appraisal, row)
        for earlier in records.revisions(period):
            if earlier.revision < appraisal.revision and earlier.state == AppraisalState.APPROVED:
                earlier.state = AppraisalState.SUPERSEDED.value
        records.note(appraisal, "approved", by, now)
        event = AppraisalApproved(
            period=str(period),
            revision=appraisal.revision,
            members=[
                MemberScore(facility_id=c.facility_id, community_id=c.community_id, score=c.total)
                for c in sorted(appraisal.scorecards.values(), key=lambda c: c.facility_id)
            ],
            approved_by=by,
            approved_at=now,
        )
        uow.publish(event)
        uow.commit()
        return event


def correct(uow: AdministrationUnitOfWork, period: HalfYear, reason: str, by: str) -> Appraisal:
    """Open the next revision of an approved period, drawn up afresh."""
    if not reason.strip():
        raise AppraisalRefused("reason_required", "a correction needs a reason")
    with uow:
        approved, _ = _newest(uow, period)
        appraisal = approved.correction()
        _new_revision(uow, appraisal, by, reason.strip())
        uow.commit()
        return appraisal
