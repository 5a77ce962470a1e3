"""What the shared TCM pharmacy's events contribute to its indicators
(:mod:`services.reporting.domain.herbal`): pure functions from a payload and the sending
clinic to cell changes, like :mod:`quality_rules`."""

from __future__ import annotations

from decimal import Decimal

from libs.events.catalogue.quality import (
    HerbalDecoctionStarted,
    HerbalDeliveryFailed,
    HerbalDeliveryOverdue,
    HerbalOrderDelivered,
    HerbalOrderDispatched,
)
from services.reporting.domain.cells import Change, Member
from services.reporting.domain.indicators import indicator
from services.reporting.domain.rules import ONE, ZERO, County, flow

__all__ = [
    "decoction_started",
    "delivered",
    "delivery_failed",
    "delivery_overdue",
    "dispatched",
    "preparation_hours",
]

ON_TIME = indicator("herbal_delivery_on_time_rate")
FAILURES = indicator("herbal_delivery_failures")
BREACHES = indicator("herbal_delivery_sla_breaches")
DISPATCHES = indicator("herbal_dispatches")
PREPARATION = indicator("herbal_preparation_hours")


def delivered(data: HerbalOrderDelivered, member: Member, county: County) -> list[Change]:
    """A delivery: in the rate's denominator, and its numerator when within the SLA."""
    day = county.clock.date_of(data.delivered_at)
    return flow(ON_TIME, county.place(member), day, ONE if data.on_time else ZERO, ONE)


def delivery_failed(data: HerbalDeliveryFailed, member: Member, county: County) -> list[Change]:
    return flow(FAILURES, county.place(member), county.clock.date_of(data.failed_at), ONE)


def delivery_overdue(data: HerbalDeliveryOverdue, member: Member, county: County) -> list[Change]:
    return flow(BREACHES, county.place(member), county.clock.date_of(data.detected_at), ONE)


def dispatched(data: HerbalOrderDispatched, member: Member, county: County) -> list[Change]:
    return flow(DISPATCHES, county.place(member), county.clock.date_of(data.dispatched_at), ONE)


def decoction_started(data: HerbalDecoctionStarted, member: Member, county: County) -> list[Change]:
    """The order's wait for preparation, in hours, over one order started."""
    day = county.clock.date_of(data.started_at)
    return flow(PREPARATION, county.place(member), day, preparation_hours(data), ONE)


def preparation_hours(data: HerbalDecoctionStarted) -> Decimal:
    """Hours from acceptance to the start of decoction, to the hundredth (0 if the clocks
    disagree)."""
    seconds = max(0, int((data.started_at - data.accepted_at).total_seconds()))
    return (Decimal(seconds) / 3600).quantize(Decimal("0.01"))
