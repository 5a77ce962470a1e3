"""The shared TCM pharmacy (共享中药房): a member clinic's herbal prescription, released by the
review, is prepared from the TCM hospital's stock, decocted (代煎) and delivered to the
patient's home within the county's delivery SLA; the clinic pays the shared pharmacy its
preparation, decoction and delivery fees.

An order guards its own lifecycle: accepted → decocting → dispatched → delivered, or
delivery failed → dispatched again while retries are left. An order not decocted (the
prescription asked for the pieces only) goes from accepted straight to dispatch. Every
refused step says where the order stands, so the pharmacy's staff see why.

The rules read no database: the county's file (``infra/quality/shared-pharmacy.yaml``,
:func:`parse_shared_pharmacy`) and the order are all they need.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from services.quality.domain.config_values import (
    as_mapping,
    check_keys,
    optional_text,
    whole_number,
)

__all__ = [
    "Fees",
    "HerbalOrder",
    "InvalidStep",
    "OrderState",
    "SharedPharmacyConfig",
    "Tariff",
    "fees_for",
    "parse_shared_pharmacy",
]

CENT = Decimal("0.01")


class OrderState(StrEnum):
    ACCEPTED = "accepted"
    DECOCTING = "decocting"
    DISPATCHED = "dispatched"
    DELIVERED = "delivered"
    DELIVERY_FAILED = "delivery_failed"


@dataclass(frozen=True)
class Tariff:
    """The county's fees in yuan, exact: per dose prepared and decocted, per order delivered."""

    preparation_per_dose: Decimal
    decoction_per_dose: Decimal
    delivery_per_order: Decimal


@dataclass(frozen=True)
class SharedPharmacyConfig:
    pharmacy_facility_id: str
    """The facility whose pharmacy prepares and whose stock is used (the TCM hospital)."""
    senders: frozenset[str]
    """The member facilities that may send prescriptions to it."""
    tariff: Tariff
    delivery_sla: timedelta
    """From acceptance to delivery."""
    retries: int
    """How many times a failed delivery may be dispatched again."""

    def may_send(self, facility_id: str) -> bool:
        """A listed member, or the shared pharmacy's own hospital (its outpatients' herbs are
        decocted and delivered the same way, with no fee between members)."""
        return facility_id in self.senders or facility_id == self.pharmacy_facility_id


@dataclass(frozen=True)
class Fees:
    preparation: Decimal
    decoction: Decimal
    delivery: Decimal

    @property
    def total(self) -> Decimal:
        return self.preparation + self.decoction + self.delivery


def fees_for(tariff: Tariff, doses: int, *, decoct: bool, deliver_home: bool) -> Fees:
    """The fees of an order, to the fen: nothing is charged for a step not asked for."""
    return Fees(
        preparation=(tariff.preparation_per_dose * doses).quantize(CENT),
        decoction=(tariff.decoction_per_dose * doses).quantize(CENT) if decoct else Decimal("0.00"),
        delivery=tariff.delivery_per_order.quantize(CENT) if deliver_home else Decimal("0.00"),
    )


class InvalidStep(ValueError):
    """A step the order's state does not allow; ``state`` is where it stands."""

    def __init__(self, code: str, message: str, state: OrderState) -> None:
        super().__init__(message)
        self.code, self.message, self.state = code, message, state


@dataclass
class HerbalOrder:
    """One order's lifecycle, as the service layer loads it from its row."""

    order_id: str
    state: OrderState
    decoct: bool
    attempts: int
    retries: int
    deliver_by: datetime

    def start_decoction(self) -> None:
        if not self.decoct:
            raise InvalidStep("not_decocted", f"order {self.order_id} is not decocted", self.state)
        self._require(OrderState.ACCEPTED, "start decocting")
        self.state = OrderState.DECOCTING

    def dispatch(self) -> int:
        """Hand it to the courier; the attempt number."""
        if self.state is OrderState.DELIVERY_FAILED:
            if self.retries_left == 0:
                raise InvalidStep(
                    "no_retries_left",
                    f"order {self.order_id} failed {self.attempts} deliveries: no retry is left",
                    self.state,
                )
        else:
            self._require(OrderState.DECOCTING if self.decoct else OrderState.ACCEPTED, "dispatch")
        self.state, self.attempts = OrderState.DISPATCHED, self.attempts + 1
        return self.attempts

    def deliver(self, at: datetime) -> bool:
        """The patient received it; whether within the SLA."""
        self._require(OrderState.DISPATCHED, "deliver")
        self.state = OrderState.DELIVERED
        return at <= self.deliver_by

    def fail_delivery(self) -> int:
        """The courier could not deliver; the retries left."""
        self._require(OrderState.DISPATCHED, "fail a delivery of")
        self.state = OrderState.DELIVERY_FAILED
        return self.retries_left

    @property
    def retries_left(self) -> int:
        return max(0, self.retries + 1 - self.attempts)

    def _require(self, state: OrderState, step: str) -> None:
        if self.state is not state:
            raise InvalidStep(
                "invalid_step",
                f"cannot {step} order {self.order_id}: it is {self.state.value}, not {state.value}",
                self.state,
            )


_KEYS = frozenset(
    {"pharmacy_facility_id", "senders", "fees", "delivery_sla_hours", "delivery_retries"}
)
_FEE_KEYS = frozenset({"preparation_per_dose", "decoction_per_dose", "delivery_per_order"})


def parse_shared_pharmacy(document: Any) -> SharedPharmacyConfig:
    """The configuration of ``infra/quality/shared-pharmacy.yaml``; ValueError naming what is
    wrong and where."""
    doc = as_mapping(document, "shared-pharmacy")
    check_keys(doc, _KEYS, "shared-pharmacy")
    pharmacy = optional_text(
        doc.get("pharmacy_facility_id"), "shared-pharmacy.pharmacy_facility_id"
    )
    if pharmacy is None:
        raise ValueError("shared-pharmacy.pharmacy_facility_id is required")
    senders = doc.get("senders")
    if not isinstance(senders, list) or not all(isinstance(s, str) and s for s in senders):
        raise ValueError("shared-pharmacy.senders must be a list of facility ids")
    fees = as_mapping(doc.get("fees"), "shared-pharmacy.fees")
    check_keys(fees, _FEE_KEYS, "shared-pharmacy.fees")
    retries = doc.get("delivery_retries", 2)
    if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= 5:
        raise ValueError("shared-pharmacy.delivery_retries must be a whole number from 0 to 5")
    return SharedPharmacyConfig(
        pharmacy_facility_id=pharmacy,
        senders=frozenset(senders),
        tariff=Tariff(
            preparation_per_dose=_fee(fees, "preparation_per_dose"),
            decoction_per_dose=_fee(fees, "decoction_per_dose"),
            delivery_per_order=_fee(fees, "delivery_per_order"),
        ),
        delivery_sla=_hours(doc.get("delivery_sla_hours")),
        retries=retries,
    )


def _fee(fees: Any, key: str) -> Decimal:
    """An amount in yuan, to the fen, written as a string (a YAML float is not exact)."""
    value, where = fees.get(key), f"shared-pharmacy.fees.{key}"
    if not isinstance(value, str):
        raise ValueError(f'{where} must be an amount in yuan in quotes, e.g. "3.00"')
    try:
        amount = Decimal(value)
    except ArithmeticError:
        raise ValueError(f"{where} must be an amount in yuan, not {value!r}") from None
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(CENT):
        raise ValueError(f"{where} must be an amount in yuan to the fen, not {value!r}")
    return amount


def _hours(value: Any) -> timedelta:
    """The SLA in hours: a whole number, or a fraction written as text (tests use seconds)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return timedelta(hours=whole_number(value, "shared-pharmacy.delivery_sla_hours", upper=720))
    try:
        hours = Decimal(str(value))
    except ArithmeticError:
        hours = Decimal(-1)
    if not hours.is_finite() or not 0 < hours <= 720:
        raise ValueError(
            f"shared-pharmacy.delivery_sla_hours must be hours above 0 up to 720, not {value!r}"
        )
    return timedelta(seconds=float(hours * 3600))
