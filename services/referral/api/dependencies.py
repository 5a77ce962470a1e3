"""What every referral endpoint needs: the service's configuration and the caller as an
actor (refusals are answered by the admin app's one handler, libs/platform/http/errors.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from libs.platform.auth import Principal, Role
from libs.platform.http.dependencies import UnitOfWorkDep
from libs.platform.http.security import require_roles
from services.referral.config import ReferralConfig
from services.referral.service_layer.errors import (
    Actor,
)
from services.referral.service_layer.unit_of_work import referral_uow

__all__ = ["ActorDep", "ConfigDep"]


def _config(uow: UnitOfWorkDep) -> ReferralConfig:
    return referral_uow(uow).config


#: Referrals hold patient data: the management centre and facility staff only.
_Referrers = Annotated[Principal, Depends(require_roles(Role.COUNTY_ADMIN, Role.CLINIC_STAFF))]


def _actor(principal: _Referrers) -> Actor:
    return Actor(subject=principal.subject, facility_id=principal.facility_id)


ConfigDep = Annotated[ReferralConfig, Depends(_config)]
ActorDep = Annotated[Actor, Depends(_actor)]
