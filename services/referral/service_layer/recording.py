"""Shared by the use cases: the parties every event carries, and the timeline."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from libs.events import CloudEvent, Payload
from libs.events.catalogue.values import GreenChannel, ReferralDirection, ReferralPriority
from libs.events.unit_of_work import UnitOfWork
from services.referral.adapters.schema import Referral, TimelineEntry
from services.referral.service_layer.unit_of_work import referral_records

__all__ = ["aware", "publish_step", "referral_ref"]


def aware(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; they were stored in UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def referral_ref(row: Referral) -> dict[str, Any]:
    """The fields every referral event carries, so consumers need no state of their own."""
    return {
        "referral_id": row.referral_id,
        "direction": ReferralDirection(row.direction),
        "from_facility_id": row.from_facility_id,
        "to_facility_id": row.to_facility_id,
        "priority": ReferralPriority(row.priority),
        "green_channel": GreenChannel(row.green_channel) if row.green_channel else None,
    }


def publish_step(
    uow: UnitOfWork,
    row: Referral,
    payload: Payload,
    *,
    kind: str,
    actor: str,
    at: datetime,
    details: dict[str, Any] | None = None,
) -> CloudEvent[Payload]:
    """Publish ``payload`` and write the matching timeline entry, in the caller's transaction."""
    event = uow.publish(payload)
    referral_records(uow).add(
        TimelineEntry(
            referral_id=row.referral_id,
            at=at,
            kind=kind,
            state=row.state,
            actor=actor,
            details=details or {},
            event_id=event.id,
        )
    )
    return event
