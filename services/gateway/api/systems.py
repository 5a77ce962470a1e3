"""``/systems``: the member systems and their credentials (the county administrator)."""

from __future__ import annotations

from fastapi import APIRouter

from libs.platform.http.errors import ApiError
from services.gateway.api.dependencies import AdminDep, GatewayUowDep
from services.gateway.api.schemas import SecretOut, SystemOut
from services.gateway.service_layer.systems import issue_secret

router = APIRouter(prefix="/systems", tags=["member systems"])


@router.get("", response_model=list[SystemOut], summary="The member systems")
def list_systems(_: AdminDep, uow: GatewayUowDep) -> list[SystemOut]:
    with uow:
        return [
            SystemOut(
                system_id=row.system_id,
                facility_id=row.facility_id,
                kind=row.kind,
                format=row.format,
                product=row.product,
                active=row.active,
                has_secret=row.secret_digest is not None,
                secret_issued_at=row.secret_issued_at,
            )
            for row in uow.systems.all()
        ]


@router.post(
    "/{system_id}/secret",
    status_code=201,
    response_model=SecretOut,
    summary="Issue a new secret for a member system",
)
def new_secret(system_id: str, _: AdminDep, uow: GatewayUowDep) -> SecretOut:
    """The old secret stops working (in every process within a minute); the new one is
    shown here once."""
    secret = issue_secret(uow, system_id)
    if secret is None:
        raise ApiError(404, "not_found", f"no member system {system_id[:64]!r}")
    return SecretOut(system_id=system_id, secret=secret)
