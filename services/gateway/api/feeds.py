"""``GET /feeds``: every member system's feed health, for the management centre."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter

from libs.platform.http.errors import ApiError
from services.gateway.api.dependencies import AdminDep, GatewayUowDep
from services.gateway.api.schemas import FeedOut
from services.gateway.service_layer.feeds import FeedHealth, feed_health

router = APIRouter(prefix="/feeds", tags=["feed health"])


def _out(health: FeedHealth) -> FeedOut:
    return FeedOut(
        **asdict(health),
        silent=health.silent_since is not None,
        error_rate_today=health.error_rate_today,
    )


@router.get("", response_model=list[FeedOut], summary="Every member system's feed")
def list_feeds(_: AdminDep, uow: GatewayUowDep) -> list[FeedOut]:
    """Last message, messages accepted and refused (this and the previous hour, and today),
    refusals by reason, and whether the feed is silent now."""
    return [_out(h) for h in feed_health(uow)]


@router.get("/{system_id}", response_model=FeedOut, summary="One member system's feed")
def get_feed(system_id: str, _: AdminDep, uow: GatewayUowDep) -> FeedOut:
    for health in feed_health(uow):
        if health.system_id == system_id:
            return _out(health)
    raise ApiError(404, "not_found", f"no member system {system_id[:64]!r}")
