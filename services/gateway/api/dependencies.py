"""What the gateway's endpoints need: the calling member system (authenticated, within its
rate and size limits) or, for the admin endpoints, the county administrator."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from libs.platform.auth import Principal, Role
from libs.platform.http.dependencies import UnitOfWorkDep
from libs.platform.http.errors import ApiError
from libs.platform.http.security import require_roles
from services.gateway.api.gate import SystemGate, parse_credential
from services.gateway.domain.systems import SystemRules
from services.gateway.service_layer.systems import authenticate
from services.gateway.service_layer.unit_of_work import GatewayUnitOfWork, gateway_uow

__all__ = ["AdminDep", "GatewayUowDep", "MemberSystemDep", "member_system"]

_CHALLENGE = {"WWW-Authenticate": 'Basic realm="gateway"'}


def _gate(request: Request) -> SystemGate:
    gate = getattr(request.app.state, "system_gate", None)
    if gate is None:
        gate = request.app.state.system_gate = SystemGate()
    return gate


def _gateway(uow: UnitOfWorkDep) -> GatewayUnitOfWork:
    return gateway_uow(uow)


GatewayUowDep = Annotated[GatewayUnitOfWork, Depends(_gateway)]


def member_system(
    request: Request,
    uow: GatewayUowDep,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
    x_api_key: Annotated[
        str | None, Header(description="`<system id>:<secret>`, instead of HTTP Basic.")
    ] = None,
) -> SystemRules:
    """The member system sending this request (401, 413 or 429 otherwise)."""
    gate = _gate(request)
    credential = parse_credential(authorization, x_api_key)
    rules = None
    if credential is not None:
        rules = gate.recognise(credential, lambda s, k: authenticate(uow, s, k))
    if rules is None:
        client = request.client.host if request.client else "?"
        wait = gate.failed(client)
        if wait > 0:
            raise ApiError(429, "rate_limited", "too many failed authentications; slow down",
                           headers={"Retry-After": str(max(1, int(wait + 0.999)))})  # fmt: skip
        raise ApiError(
            401,
            "unauthenticated",
            "a member system's credential is required: HTTP Basic or X-Api-Key "
            "'<system id>:<secret>'",
            headers=_CHALLENGE,
        )
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > rules.max_request_bytes:
        raise ApiError(
            413, "payload_too_large",
            f"system {rules.system_id} may send at most {rules.max_request_bytes} bytes a request",
        )  # fmt: skip
    wait = gate.wait_for(rules)
    if wait > 0:
        raise ApiError(
            429, "rate_limited",
            f"system {rules.system_id} may send {rules.requests_per_minute} requests a minute",
            headers={"Retry-After": str(max(1, int(wait + 0.999)))},
        )  # fmt: skip
    request.state.member_system = rules.system_id
    return rules


member_system.member_system = True  # type: ignore[attr-defined]  # read by the auth matrix

MemberSystemDep = Annotated[SystemRules, Depends(member_system)]
#: The gateway's administration: the management centre (信息中心 sits in it).
AdminDep = Annotated[Principal, Depends(require_roles(Role.COUNTY_ADMIN))]
