"""Feed health: finding silent feeds, and what the management centre sees of every feed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from libs.events.catalogue.gateway import FeedSilent
from services.gateway.adapters.systems import rules_of, utc
from services.gateway.domain.feeds import FeedState, silent_since
from services.gateway.service_layer.unit_of_work import GatewayUnitOfWork

__all__ = ["FeedHealth", "feed_health", "scan"]


def scan(uow: GatewayUnitOfWork) -> list[str]:
    """Announce every feed that has fallen silent during its opening hours (once per
    silence); returns the systems announced."""
    now = uow.config.now()
    announced: list[str] = []
    with uow:
        states = uow.feeds.states()
        for row in uow.systems.all():
            stored = states.get(row.system_id)
            if not row.active or stored is None:
                continue
            rules = rules_of(row)
            state = FeedState(
                last_message_at=utc(stored.last_message_at),
                silent_since=utc(stored.silent_since),
                registered_at=utc(row.registered_at) or now,
            )
            since = silent_since(
                state, rules.opening_hours, rules.silent_after, now=now, zone=uow.config.clock.zone
            )
            if since is None or not uow.feeds.begin_silence(row.system_id, since):
                continue
            uow.publish(
                FeedSilent(
                    system_id=row.system_id,
                    facility_id=row.facility_id,
                    system_kind=row.kind,
                    silent_since=since,
                    last_message_at=state.last_message_at,
                    detected_at=now,
                )
            )
            announced.append(row.system_id)
        uow.commit()
    return announced


@dataclass(frozen=True)
class FeedHealth:
    system_id: str
    facility_id: str
    kind: str
    format: str
    product: str
    active: bool
    opening_hours: list[str]
    last_message_at: datetime | None
    silent_since: datetime | None
    accepted_last_hour: int
    refused_last_hour: int
    accepted_today: int
    refused_today: int
    refusal_reasons: dict[str, int] = field(default_factory=dict)
    last_refusal_at: datetime | None = None

    @property
    def error_rate_today(self) -> float:
        total = self.accepted_today + self.refused_today
        return round(self.refused_today / total, 4) if total else 0.0


def feed_health(uow: GatewayUnitOfWork) -> list[FeedHealth]:
    """Every system's feed: last message, messages per hour and refusal rate, refusals by
    reason, and whether it is silent now."""
    clock = uow.config.clock
    now = uow.config.now()
    day_start = clock.start_of(clock.today())
    hour_start = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    with uow:
        states = uow.feeds.states()
        hours = uow.feeds.hours_since(min(day_start, hour_start))
        reasons: dict[str, dict[str, int]] = {}
        for refusal in uow.feeds.refusals():
            reasons.setdefault(refusal.system_id, {})[refusal.reason] = refusal.count
        found = []
        for row in uow.systems.all():
            state = states.get(row.system_id)
            mine = [(utc(h.hour) or now, h) for h in hours if h.system_id == row.system_id]
            found.append(
                FeedHealth(
                    system_id=row.system_id,
                    facility_id=row.facility_id,
                    kind=row.kind,
                    format=row.format,
                    product=row.product,
                    active=row.active,
                    opening_hours=list(row.opening_hours),
                    last_message_at=utc(state.last_message_at) if state else None,
                    silent_since=utc(state.silent_since) if state else None,
                    accepted_last_hour=sum(h.accepted for at, h in mine if at >= hour_start),
                    refused_last_hour=sum(h.refused for at, h in mine if at >= hour_start),
                    accepted_today=sum(h.accepted for at, h in mine if at >= day_start),
                    refused_today=sum(h.refused for at, h in mine if at >= day_start),
                    refusal_reasons=reasons.get(row.system_id, {}),
                    last_refusal_at=utc(state.last_refusal_at) if state else None,
                )
            )
    return found
