"""Indicators of the shared TCM pharmacy (共享中药房): how many of its orders reached the
patient within the county's delivery SLA (``herbal_delivery_on_time_rate``), deliveries that
failed, orders past the SLA, dispatches and how long orders waited to be prepared.

Each order is counted at the member clinic that sent it (whose patients waited), rolled up to
its community and the county. Every count comes from one event of the order, sent once per
order (or per dispatch and failed delivery: ``attempt``), so numerators and denominators add
up level by level and nothing is kept but the cells."""

from __future__ import annotations

from libs.events.catalogue.quality import (
    HerbalDecoctionStarted,
    HerbalDeliveryFailed,
    HerbalDeliveryOverdue,
    HerbalOrderDelivered,
    HerbalOrderDispatched,
)
from services.reporting.domain.definition import ALL_LEVELS, Indicator

__all__ = ["HERBAL_INDICATORS"]

_AT_THE_SENDING_CLINIC = (
    "At the member facility that sent the prescription to the shared pharmacy, rolled up to "
    "its community and the county: numerator and denominator add up level by level."
)
_ONCE = "Sent again under a new event id, an order counts once (the catalogue's identity)."

HERBAL_INDICATORS: tuple[Indicator, ...] = (
    Indicator(
        code="herbal_delivery_on_time_rate",
        name="Shared-pharmacy on-time delivery",
        name_zh="共享中药房按时配送率",
        numerator="Shared-pharmacy orders delivered within the delivery SLA (`on_time`: "
        "`delivered_at` not after `deliver_by`, acceptance + `delivery_sla_hours`)",
        denominator="Shared-pharmacy orders delivered",
        factor=100,
        unit="%",
        levels=ALL_LEVELS,
        levels_why=_AT_THE_SENDING_CLINIC,
        sources=(HerbalOrderDelivered,),
        dated_by="`delivered_at`",
        notes="An order delivered after a failed delivery counts once, when delivered, on "
        "time or not by the same SLA. An order never delivered counts in neither (see "
        "`herbal_delivery_sla_breaches`). " + _ONCE,
    ),
    Indicator(
        code="herbal_delivery_failures",
        name="Shared-pharmacy failed deliveries",
        name_zh="共享中药房配送失败次数",
        numerator="Deliveries the courier could not make (each attempt)",
        denominator=None,
        factor=1,
        unit="deliveries",
        levels=ALL_LEVELS,
        levels_why=_AT_THE_SENDING_CLINIC,
        sources=(HerbalDeliveryFailed,),
        dated_by="`failed_at`",
        decimals=0,
        notes="Counted once per order and attempt, whatever the event id.",
    ),
    Indicator(
        code="herbal_delivery_sla_breaches",
        name="Shared-pharmacy orders past the delivery SLA",
        name_zh="共享中药房配送超时",
        numerator="Orders not delivered by their `deliver_by` (once per order)",
        denominator=None,
        factor=1,
        unit="orders",
        levels=ALL_LEVELS,
        levels_why=_AT_THE_SENDING_CLINIC,
        sources=(HerbalDeliveryOverdue,),
        dated_by="`detected_at`",
        decimals=0,
        notes=_ONCE,
    ),
    Indicator(
        code="herbal_dispatches",
        name="Shared-pharmacy dispatches",
        name_zh="共享中药房配送单数",
        numerator="Orders handed to the courier, again after a failed delivery",
        denominator=None,
        factor=1,
        unit="dispatches",
        levels=ALL_LEVELS,
        levels_why=_AT_THE_SENDING_CLINIC,
        sources=(HerbalOrderDispatched,),
        dated_by="`dispatched_at`",
        decimals=0,
        notes="Counted once per order and attempt, whatever the event id.",
    ),
    Indicator(
        code="herbal_preparation_hours",
        name="Shared-pharmacy wait for preparation",
        name_zh="共享中药房调剂等待时长",
        numerator="Hours from an order's acceptance to the start of its preparation and "
        "decoction (`accepted_at` → `started_at`), summed",
        denominator="Orders whose decoction started",
        factor=1,
        unit="hours",
        levels=ALL_LEVELS,
        levels_why=_AT_THE_SENDING_CLINIC,
        sources=(HerbalDecoctionStarted,),
        dated_by="`started_at`",
        notes="A mean: the hours add up level by level, and so do the orders. Orders not "
        "decocted (pieces only) are dispatched without this step and count in neither. " + _ONCE,
    ),
)
