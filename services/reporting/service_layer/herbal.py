"""The shared TCM pharmacy's events (quality's ``quality.herbal_order``): each counted at the
clinic that sent the order (:mod:`services.reporting.domain.herbal_rules`). A resend under a
new event id is the backbone's to skip (the catalogue's identity); they keep nothing but
their cells. The order's acceptance is pharmacy's to act on, not counted here."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from libs.events.catalogue.quality import (
    HerbalDecoctionStarted,
    HerbalDeliveryFailed,
    HerbalDeliveryOverdue,
    HerbalOrderDelivered,
    HerbalOrderDispatched,
)
from services.reporting.domain import herbal_rules
from services.reporting.domain.cells import Change, Member
from services.reporting.domain.rules import County
from services.reporting.service_layer.unit_of_work import ReportingUnitOfWork

__all__ = [
    "on_decoction_started",
    "on_delivered",
    "on_delivery_failed",
    "on_delivery_overdue",
    "on_dispatched",
]


def _count(
    rule: Callable[[Any, Member, County], list[Change]], data: Any, uow: ReportingUnitOfWork
) -> None:
    uow.record(rule(data, uow.member(data.facility_id), uow.county))


def on_decoction_started(data: HerbalDecoctionStarted, uow: ReportingUnitOfWork) -> None:
    _count(herbal_rules.decoction_started, data, uow)


def on_dispatched(data: HerbalOrderDispatched, uow: ReportingUnitOfWork) -> None:
    _count(herbal_rules.dispatched, data, uow)


def on_delivered(data: HerbalOrderDelivered, uow: ReportingUnitOfWork) -> None:
    _count(herbal_rules.delivered, data, uow)


def on_delivery_failed(data: HerbalDeliveryFailed, uow: ReportingUnitOfWork) -> None:
    _count(herbal_rules.delivery_failed, data, uow)


def on_delivery_overdue(data: HerbalDeliveryOverdue, uow: ReportingUnitOfWork) -> None:
    _count(herbal_rules.delivery_overdue, data, uow)
