"""``/reviews``: the review centre's queue of held prescriptions, and its decisions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy import func, select

from libs.platform.auth import Principal, Role
from libs.platform.http.dependencies import UnitOfWorkDep
from libs.platform.http.errors import ApiError
from libs.platform.http.pagination import Page, PageDep
from libs.platform.http.security import ensure_facility, require_roles
from services.quality.adapters.schema import Review
from services.quality.api.schemas import DecisionIn, RejectionIn, ReviewView
from services.quality.service_layer.decisions import decide
from services.quality.service_layer.unit_of_work import quality_uow

router = APIRouter(prefix="/reviews", tags=["prescription review"])

#: Reviews hold the prescriptions of every member: the review centre (its pharmacists are
#: the central pharmacy's), the management centre, and a clinic for its own.
Readers = Annotated[
    Principal,
    Depends(require_roles(Role.PHARMACY_CENTRE, Role.COUNTY_ADMIN, Role.CLINIC_STAFF)),
]
Pharmacists = Annotated[Principal, Depends(require_roles(Role.PHARMACY_CENTRE))]


def view(row: Review) -> ReviewView:
    return ReviewView(
        facility_id=row.facility_id,
        prescription_id=row.prescription_id,
        state=row.state,
        outcome=row.outcome,
        before_dispensing=row.before_dispensing,
        prescriber_id=row.prescriber_id,
        antibiotic=row.antibiotic,
        findings=list(row.findings),
        lines=list(row.prescription.get("lines", [])),
        reviewed_at=row.reviewed_at,
        held_at=row.held_at,
        decide_by=row.decide_by,
        overdue=row.overdue_at is not None,
        decided_at=row.decided_at,
        decided_by=row.decided_by,
        decision_note=row.decision_note,
    )


@router.get("", response_model=Page[ReviewView], summary="Reviews, oldest held first")
def list_reviews(
    principal: Readers,
    uow: UnitOfWorkDep,
    page: PageDep,
    state: Annotated[str | None, Query(pattern="^(released|held|rejected)$")] = None,
    facility_id: Annotated[str | None, Query(max_length=64)] = None,
) -> Page[ReviewView]:
    """The review centre works the ``state=held`` queue, the oldest first."""
    if principal.facility_id is not None and principal.role is Role.CLINIC_STAFF:
        facility_id = facility_id or principal.facility_id
    if facility_id is not None:
        ensure_facility(principal, facility_id)
    query = select(Review)
    if state is not None:
        query = query.where(Review.state == state)
    if facility_id is not None:
        query = query.where(Review.facility_id == facility_id)
    with uow:
        total = uow.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = uow.session.scalars(
            query.order_by(Review.held_at, Review.reviewed_at).limit(page.limit).offset(page.offset)
        ).all()
        return page.of([view(r) for r in rows], total=total)


@router.get("/{facility_id}/{prescription_id}", response_model=ReviewView, summary="One review")
def get_review(
    facility_id: str, prescription_id: str, principal: Readers, uow: UnitOfWorkDep
) -> ReviewView:
    ensure_facility(principal, facility_id)
    with uow:
        row = uow.session.get(Review, (facility_id, prescription_id))
        if row is None:
            raise ApiError(404, "not_found", f"no review of {prescription_id[:64]!r}")
        return view(row)


@router.post(
    "/{facility_id}/{prescription_id}/release",
    response_model=ReviewView,
    responses={404: {}, 409: {"description": "Not held (already decided)"}},
    summary="Release a held prescription (a review-centre pharmacist)",
)
def release(
    facility_id: str, prescription_id: str, body: DecisionIn, who: Pharmacists, uow: UnitOfWorkDep
) -> ReviewView:
    row = decide(quality_uow(uow), facility_id, prescription_id, release=True,
                 pharmacist=who.subject, note=body.note)  # fmt: skip
    return view(row)


@router.post(
    "/{facility_id}/{prescription_id}/reject",
    response_model=ReviewView,
    responses={404: {}, 409: {"description": "Not held (already decided)"}},
    summary="Return a held prescription to its prescriber (a review-centre pharmacist)",
)
def reject(
    facility_id: str, prescription_id: str, body: RejectionIn, who: Pharmacists, uow: UnitOfWorkDep
) -> ReviewView:
    row = decide(quality_uow(uow), facility_id, prescription_id, release=False,
                 pharmacist=who.subject, note=body.reason)  # fmt: skip
    return view(row)
