"""Admin HTTP for referrals: request, list, read, timeline and the FHIR view."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from pydantic import AwareDatetime

from libs.events.catalogue.values import GreenChannel, ReferralDirection, ReferralPriority
from libs.events.envelope import utc_now
from libs.platform.http.dependencies import UnitOfWorkDep
from libs.platform.http.pagination import Page, PageDep
from libs.platform.http.security import AnyRole
from services.referral.api.dependencies import ActorDep, ConfigDep
from services.referral.api.schemas import (
    Created,
    ReferralDetail,
    ReferralIn,
    ReferralSummary,
    TimelineStep,
)
from services.referral.domain import fhir
from services.referral.domain.lifecycle import ReferralState
from services.referral.domain.patient import PatientIdentity
from services.referral.service_layer import views
from services.referral.service_layer.requests import ReferralRequest, request_referral

router = APIRouter(prefix="/referrals", tags=["referrals"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Request a referral (the referring facility)",
    responses={403: {}, 409: {"description": "No free slot or bed"}, 422: {}},
)
def create(body: ReferralIn, actor: ActorDep, config: ConfigDep, uow: UnitOfWorkDep) -> Created:
    request = ReferralRequest(
        direction=body.direction,
        priority=body.priority,
        green_channel=body.green_channel,
        from_facility_id=body.from_facility_id,
        from_department_id=body.from_department_id,
        to_facility_id=body.to_facility_id,
        to_department_id=body.to_department_id,
        patient=PatientIdentity(body.patient.name, body.patient.national_id),
        reason_code=body.reason_code,
        diagnosis_codes=list(body.diagnosis_codes),
        needs_bed=body.needs_bed,
        clinical_note=body.clinical_note,
        follow_up_plan=body.follow_up_plan,
        requested_at=body.requested_at,
    )
    created = request_referral(uow, config, request, actor=actor, now=utc_now())
    with uow:
        row = views.visible_referral(uow.session, created.referral_id, actor)
        view = views.detail(uow.session, row, config, actor)
    return Created(**view, earliest_free_day=created.earliest_free_day)


@router.get("", summary="Referrals from or to the caller's facility (all, for the county)")
def list_referrals(
    actor: ActorDep,
    config: ConfigDep,
    uow: UnitOfWorkDep,
    page: PageDep,
    direction: ReferralDirection | None = None,
    priority: ReferralPriority | None = None,
    state: ReferralState | None = None,
    green_channel: GreenChannel | None = None,
    facility_id: Annotated[str | None, Query(description="From or to this facility")] = None,
    from_facility_id: str | None = None,
    to_facility_id: str | None = None,
    breached: Annotated[bool | None, Query(description="Missed an SLA stage")] = None,
    escalated_to_role: Annotated[
        str | None, Query(description="Escalated to this role (its work list)")
    ] = None,
    requested_from: AwareDatetime | None = None,
    requested_until: AwareDatetime | None = None,
) -> Page[ReferralSummary]:
    wanted = views.ReferralFilter(
        direction=direction,
        priority=priority,
        state=state,
        green_channel=green_channel.value if green_channel else None,
        facility_id=facility_id,
        from_facility_id=from_facility_id,
        to_facility_id=to_facility_id,
        breached=breached,
        escalated_to_role=escalated_to_role,
        requested_from=requested_from,
        requested_until=requested_until,
    )
    with uow:
        rows, total = views.list_referrals(
            uow.session, wanted, actor, limit=page.limit, offset=page.offset
        )
        items = [ReferralSummary(**views.summary(row, config)) for row in rows]
    return page.of(items, total=total)


@router.get("/codes", summary="The code lists: request, rejection and cancellation reasons")
def get_codes(_: AnyRole, config: ConfigDep) -> dict[str, Any]:
    """Code → display name (中文) per list, for the desks' forms (the console's)."""
    codes = config.codes
    return {
        "request_reasons": {d.value: dict(t) for d, t in codes.request_reasons.items()},
        "rejection_reasons": dict(codes.rejection_reasons),
        "cancellation_reasons": dict(codes.cancellation_reasons),
    }


@router.get("/{referral_id}", summary="One referral, and what the caller may do next")
def get_referral(
    referral_id: str, actor: ActorDep, config: ConfigDep, uow: UnitOfWorkDep
) -> ReferralDetail:
    with uow:
        row = views.visible_referral(uow.session, referral_id, actor)
        return ReferralDetail(**views.detail(uow.session, row, config, actor))


@router.get("/{referral_id}/timeline", summary="Every step of one referral, in order")
def get_timeline(referral_id: str, actor: ActorDep, uow: UnitOfWorkDep) -> list[TimelineStep]:
    with uow:
        views.visible_referral(uow.session, referral_id, actor)
        return [TimelineStep(**step) for step in views.timeline(uow.session, referral_id)]


@router.get(
    "/{referral_id}/fhir",
    summary="The referral as FHIR R4 ServiceRequest + Task (a collection Bundle)",
)
def get_fhir(
    referral_id: str, actor: ActorDep, config: ConfigDep, uow: UnitOfWorkDep
) -> dict[str, Any]:
    with uow:
        row = views.visible_referral(uow.session, referral_id, actor)
        return fhir.referral_bundle(views.fhir_facts(row, config))
