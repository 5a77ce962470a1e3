"""What every referral endpoint needs: the service's configuration, the caller as an actor,
and one translation of the use cases' refusals into HTTP errors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import Depends

from libs.platform.auth import Principal, Role
from libs.platform.http.dependencies import UnitOfWorkDep
from libs.platform.http.errors import ApiError
from libs.platform.http.security import require_roles
from services.referral.config import ReferralConfig
from services.referral.service_layer.errors import (
    Actor,
    CapacityFull,
    InvalidTransition,
    NotAParty,
    ReferralNotFound,
    RuleViolation,
)
from services.referral.service_layer.unit_of_work import referral_uow

__all__ = ["ActorDep", "ConfigDep", "refusals"]


def _config(uow: UnitOfWorkDep) -> ReferralConfig:
    return referral_uow(uow).config


#: Referrals hold patient data: the management centre and facility staff only.
_Referrers = Annotated[Principal, Depends(require_roles(Role.COUNTY_ADMIN, Role.CLINIC_STAFF))]


def _actor(principal: _Referrers) -> Actor:
    return Actor(subject=principal.subject, facility_id=principal.facility_id)


ConfigDep = Annotated[ReferralConfig, Depends(_config)]
ActorDep = Annotated[Actor, Depends(_actor)]


@contextmanager
def refusals() -> Iterator[None]:
    """Turn a use case's refusal into the API's error: 403, 404, 409 or 422."""
    try:
        yield
    except ReferralNotFound as exc:
        raise ApiError(404, "not_found", str(exc)) from None
    except NotAParty as exc:
        raise ApiError(403, "forbidden", str(exc)) from None
    except InvalidTransition as exc:
        raise ApiError(
            409,
            "invalid_transition",
            str(exc),
            {
                "state": exc.state.value,
                "action": exc.action.value,
                "allowed": [a.value for a in exc.allowed],
            },
        ) from None
    except CapacityFull as exc:
        raise ApiError(409, "capacity_full", str(exc)) from None
    except RuleViolation as exc:
        raise ApiError(422, exc.code, exc.message, exc.details) from None
