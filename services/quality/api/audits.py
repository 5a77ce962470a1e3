"""``/audits``: the monthly prescription audit (处方点评) — draw a month's samples, the
reviewers' queue per member, their verdicts, and publishing a member's results."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from sqlalchemy import case, func, select

from libs.platform.auth import Principal, Role
from libs.platform.http.dependencies import UnitOfWorkDep
from libs.platform.http.errors import ApiError
from libs.platform.http.security import ensure_facility, require_roles
from services.quality.adapters.schema import AuditItem, AuditSample, Review
from services.quality.api.audit_schemas import (
    AuditCategoryView,
    AuditFacilityView,
    AuditItemView,
    AuditMonthView,
    AuditReasonView,
    AuditStandardView,
    AuditSummary,
    VerdictIn,
)
from services.quality.domain.audit import drawable_from, parse_month
from services.quality.domain.audit_standard import RATIONAL
from services.quality.service_layer.audit import decide_verdict, draw_month, publish_results
from services.quality.service_layer.unit_of_work import QualityUnitOfWork, quality_uow

router = APIRouter(prefix="/audits", tags=["prescription audit"])

#: The review centre audits, the management centre oversees, a clinic reads its own results.
Readers = Annotated[
    Principal,
    Depends(require_roles(Role.PHARMACY_CENTRE, Role.COUNTY_ADMIN, Role.CLINIC_STAFF)),
]
Organisers = Annotated[Principal, Depends(require_roles(Role.PHARMACY_CENTRE, Role.COUNTY_ADMIN))]
Reviewers = Annotated[Principal, Depends(require_roles(Role.PHARMACY_CENTRE))]
_REFUSALS: dict[int | str, dict[str, Any]] = {404: {}, 409: {}, 422: {}}


def _month(text: str) -> str:
    """The path's month, or 422 (checked in the endpoint, after the caller's facility)."""
    try:
        return parse_month(text)
    except ValueError as bad:
        raise ApiError(422, "invalid_month", str(bad)) from None


def _summaries(
    uow: QualityUnitOfWork, month: str, facility_id: str | None = None
) -> list[AuditSummary]:
    query = select(AuditSample).where(AuditSample.month == month)
    counts = select(
        AuditItem.facility_id,
        func.count(AuditItem.verdict),
        func.sum(case((AuditItem.verdict != RATIONAL, 1), else_=0)),
    ).where(AuditItem.month == month)
    if facility_id is not None:
        query = query.where(AuditSample.facility_id == facility_id)
        counts = counts.where(AuditItem.facility_id == facility_id)
    grouped = uow.session.execute(counts.group_by(AuditItem.facility_id))
    decided = {f: (int(r or 0), int(i or 0)) for f, r, i in grouped}
    return [
        AuditSummary(
            month=s.month,
            facility_id=s.facility_id,
            prescriptions=s.prescriptions,
            sampled=s.sampled,
            reviewed=decided.get(s.facility_id, (0, 0))[0],
            irrational=decided.get(s.facility_id, (0, 0))[1],
            seed=s.seed,
            drawn_at=s.drawn_at,
            drawn_by=s.drawn_by,
            published_at=s.published_at,
            published_by=s.published_by,
        )
        for s in uow.session.scalars(query.order_by(AuditSample.facility_id))
    ]


def _month_view(uow: QualityUnitOfWork, month: str, principal: Principal) -> AuditMonthView:
    own = principal.facility_id  # a token scoped to a facility reads that facility's only
    if principal.role is Role.CLINIC_STAFF and own is None:
        raise ApiError(403, "forbidden", "this token acts for no facility")
    with uow:
        facilities = _summaries(uow, month, own)
    return AuditMonthView(
        month=month, drawable_from=drawable_from(month, uow.config.audit), facilities=facilities
    )


@router.get("/standard", response_model=AuditStandardView, summary="The county's audit standard")
def standard(_: Readers, uow: UnitOfWorkDep) -> AuditStandardView:
    """What a verdict may say (the categories of irrational prescriptions and their
    sub-reasons, in the standard's words) and how a month is sampled and when drawn."""
    audit = quality_uow(uow).config.audit
    return AuditStandardView(
        minimum_per_month=audit.minimum_per_month,
        per_mille=audit.per_mille,
        draw_after_days=audit.draw_after_days,
        categories=[
            AuditCategoryView(
                code=c.code,
                label=c.label,
                reasons=[AuditReasonView(code=k, label=v) for k, v in c.reasons.items()],
            )
            for c in audit.categories.values()
        ],
    )


@router.post(
    "/{month}",
    response_model=AuditMonthView,
    responses=_REFUSALS,
    summary="Draw the month's samples (after the month ended)",
)
def draw(month: str, who: Organisers, uow: UnitOfWorkDep) -> AuditMonthView:
    """Draws every member not drawn yet; a member drawn before keeps its sample."""
    work, month = quality_uow(uow), _month(month)
    draw_month(work, month, drawn_by=who.subject)
    return _month_view(work, month, who)


@router.get(
    "/{month}",
    response_model=AuditMonthView,
    responses=_REFUSALS,
    summary="The month's audit per member",
)
def month_summary(month: str, principal: Readers, uow: UnitOfWorkDep) -> AuditMonthView:
    return _month_view(quality_uow(uow), _month(month), principal)


@router.get(
    "/{month}/facilities/{facility_id}",
    response_model=AuditFacilityView,
    responses=_REFUSALS,
    summary="A member's sampled prescriptions and verdicts",
)
def facility_queue(
    month: str, facility_id: str, principal: Readers, uow: UnitOfWorkDep
) -> AuditFacilityView:
    ensure_facility(principal, facility_id)
    work, month = quality_uow(uow), _month(month)
    with work:
        summaries = _summaries(work, month, facility_id)
        if not summaries:
            raise ApiError(
                404, "not_drawn", f"the {month} audit of {facility_id[:64]} is not drawn"
            )
        items = work.session.scalars(
            select(AuditItem)
            .where(AuditItem.month == month, AuditItem.facility_id == facility_id)
            .order_by(AuditItem.position)
        ).all()
        reviews = {
            r.prescription_id: r
            for r in work.session.scalars(
                select(Review).where(
                    Review.facility_id == facility_id,
                    Review.prescription_id.in_([i.prescription_id for i in items]),
                )
            )
        }
        views = [_item_view(i, reviews.get(i.prescription_id)) for i in items]
    return AuditFacilityView(summary=summaries[0], prescriptions=views)


@router.put(
    "/{month}/facilities/{facility_id}/prescriptions/{prescription_id}",
    response_model=AuditItemView,
    responses=_REFUSALS,
    summary="A reviewer's verdict on a sampled prescription",
)
def give_verdict(
    month: str,
    facility_id: str,
    prescription_id: str,
    body: VerdictIn,
    who: Reviewers,
    uow: UnitOfWorkDep,
) -> AuditItemView:
    """``{"verdict": "rational"}`` or ``{"verdict": "<category>", "reasons": [...]}``;
    deciding again before publication replaces the verdict and keeps the earlier one."""
    work = quality_uow(uow)
    key = (_month(month), facility_id, prescription_id)
    item = decide_verdict(
        work, key, verdict=body.verdict, reasons=body.reasons, note=body.note, reviewer=who.subject
    )
    with work:
        review = work.session.get(Review, (facility_id, prescription_id))
        return _item_view(item, review)


@router.post(
    "/{month}/facilities/{facility_id}/publish",
    response_model=AuditSummary,
    responses=_REFUSALS,
    summary="Publish a member's results (every verdict given)",
)
def publish(month: str, facility_id: str, who: Organisers, uow: UnitOfWorkDep) -> AuditSummary:
    """Publishes ``quality.audit.completed.v1`` once; 409 naming how many verdicts are
    missing, or if it was published already."""
    work, month = quality_uow(uow), _month(month)
    publish_results(work, month, facility_id, publisher=who.subject)
    with work:
        return _summaries(work, month, facility_id)[0]


def _item_view(item: AuditItem, review: Review | None) -> AuditItemView:
    prescription: dict[str, Any] = review.prescription if review is not None else {}
    return AuditItemView(
        prescription_id=item.prescription_id,
        position=item.position,
        prescriber_id=item.prescriber_id,
        category=prescription.get("category"),
        issued_at=prescription.get("issued_at"),
        lines=list(prescription.get("lines", [])),
        review_state=review.state if review is not None else None,
        review_findings=list(review.findings) if review is not None else [],
        verdict=item.verdict,
        reasons=list(item.reasons),
        note=item.note,
        decided_at=item.decided_at,
        decided_by=item.decided_by,
        history=list(item.history),
    )
