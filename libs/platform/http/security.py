"""FastAPI dependencies for authentication and role/facility authorisation."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from libs.platform.auth import InvalidToken, Principal, Role, TokenAuthority
from libs.platform.http.errors import ApiError

__all__ = ["AnyRole", "CurrentPrincipal", "ensure_facility", "require_roles"]

_bearer = HTTPBearer(
    auto_error=False, description="A token from `python -m libs.platform.auth mint`."
)


def _authority(request: Request) -> TokenAuthority:
    authority: TokenAuthority = request.app.state.token_authority
    return authority


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The verified caller; 401 without a valid bearer token.

    The dependencies here are ``async`` on purpose: they only compute (a verified token is
    cached), and FastAPI runs every sync dependency in its thread pool, a hop per dependency
    per request that cost more than the checks themselves."""
    challenge = {"WWW-Authenticate": "Bearer"}
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise ApiError(401, "unauthenticated", "a bearer token is required", headers=challenge)
    try:
        principal = _authority(request).verify(credentials.credentials)
    except InvalidToken as exc:
        raise ApiError(401, "unauthenticated", str(exc), headers=challenge) from None
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require_roles(*roles: Role) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency admitting only callers with one of ``roles`` (403 otherwise)."""
    allowed = frozenset(roles)

    async def check(principal: CurrentPrincipal) -> Principal:
        if principal.role not in allowed:
            raise ApiError(
                403,
                "forbidden",
                f"role {principal.role.value} may not do this; needs one of "
                f"{', '.join(sorted(r.value for r in allowed))}",
            )
        return principal

    check.allowed_roles = allowed  # type: ignore[attr-defined]  # read by the auth matrix test
    return check


def ensure_facility(principal: Principal, facility_id: str) -> None:
    """403 unless ``principal`` may act for ``facility_id``."""
    if not principal.can_act_for(facility_id):
        raise ApiError(
            403, "forbidden", f"this token acts for {principal.facility_id}, not {facility_id}"
        )


#: Every role of the county (reference data such as the formulary and the organisation, and
#: the indicators): a route declares it so that the read matrix knows it was decided.
AnyRole = Annotated[Principal, Depends(require_roles(*Role))]
