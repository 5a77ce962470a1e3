"""Admin HTTP for acting on a referral. Each returns the referral as it now stands; an action
its state does not admit is refused with 409 listing the allowed ones."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from libs.events.envelope import utc_now
from libs.platform.http.dependencies import UnitOfWorkDep
from services.referral.api.dependencies import ActorDep, ConfigDep
from services.referral.api.schemas import CompleteIn, ReasonIn, ReferralDetail, ScheduleIn
from services.referral.domain.lifecycle import Action
from services.referral.service_layer import views
from services.referral.service_layer.actions import ActionRequest, act
from services.referral.service_layer.errors import Actor

router = APIRouter(prefix="/referrals/{referral_id}", tags=["referral actions"])

_REFUSALS: dict[int | str, dict[str, Any]] = {
    403: {"description": "Not the facility this action belongs to"},
    404: {"description": "No such referral"},
    409: {"description": "The referral's state does not admit it, or no capacity"},
    422: {"description": "Unknown code or invalid input"},
}


def _run(
    uow: UnitOfWorkDep,
    config: ConfigDep,
    referral_id: str,
    request: ActionRequest,
    actor: Actor,
) -> ReferralDetail:
    act(uow, config, referral_id, request, actor=actor, now=utc_now())
    with uow:
        row = views.visible_referral(uow.session, referral_id, actor)
        return ReferralDetail(**views.detail(uow.session, row, config, actor))


@router.post("/accept", summary="Accept (the receiving facility)", responses=_REFUSALS)
def accept(
    referral_id: str, actor: ActorDep, config: ConfigDep, uow: UnitOfWorkDep
) -> ReferralDetail:
    return _run(uow, config, referral_id, ActionRequest(Action.ACCEPT), actor)


@router.post(
    "/reject", summary="Decline, with a reason (the receiving facility)", responses=_REFUSALS
)
def reject(
    referral_id: str, body: ReasonIn, actor: ActorDep, config: ConfigDep, uow: UnitOfWorkDep
) -> ReferralDetail:
    request = ActionRequest(Action.REJECT, reason_code=body.reason_code)
    return _run(uow, config, referral_id, request, actor)


@router.post(
    "/schedule",
    summary="Book the visit or admission, holding a slot or bed (again to move it)",
    responses=_REFUSALS,
)
def schedule(
    referral_id: str, body: ScheduleIn, actor: ActorDep, config: ConfigDep, uow: UnitOfWorkDep
) -> ReferralDetail:
    request = ActionRequest(Action.SCHEDULE, scheduled_for=body.scheduled_for)
    return _run(uow, config, referral_id, request, actor)


@router.post("/arrive", summary="The patient arrived (the receiving facility)", responses=_REFUSALS)
def arrive(
    referral_id: str, actor: ActorDep, config: ConfigDep, uow: UnitOfWorkDep
) -> ReferralDetail:
    return _run(uow, config, referral_id, ActionRequest(Action.ARRIVE), actor)


@router.post(
    "/complete",
    summary="Close it: care handed over, record returned (the receiving facility)",
    responses=_REFUSALS,
)
def complete(
    referral_id: str,
    actor: ActorDep,
    config: ConfigDep,
    uow: UnitOfWorkDep,
    body: CompleteIn | None = None,
) -> ReferralDetail:
    returned = body.record_returned if body is not None else True
    request = ActionRequest(Action.COMPLETE, record_returned=returned)
    return _run(uow, config, referral_id, request, actor)


@router.post(
    "/cancel", summary="Withdraw, with a reason (the referring facility)", responses=_REFUSALS
)
def cancel(
    referral_id: str, body: ReasonIn, actor: ActorDep, config: ConfigDep, uow: UnitOfWorkDep
) -> ReferralDetail:
    request = ActionRequest(Action.CANCEL, reason_code=body.reason_code)
    return _run(uow, config, referral_id, request, actor)
