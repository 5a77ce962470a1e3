"""Near-expiry and expired stock (近效期 / 过期): which lots, and what they are worth at cost."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from libs.events.payload import cents

__all__ = ["ExpiryReport", "LotAtRisk", "classify"]


@dataclass(frozen=True)
class LotAtRisk:
    drug_code: str
    lot_number: str
    expiry_date: date
    quantity: int
    unit_cost: Decimal

    @property
    def value(self) -> Decimal:
        return cents(self.unit_cost * self.quantity)


@dataclass(frozen=True)
class ExpiryReport:
    """One facility's lots that expire within the horizon, and those already expired."""

    horizon_days: int
    near_expiry: list[LotAtRisk] = field(default_factory=list)
    expired: list[LotAtRisk] = field(default_factory=list)

    @property
    def near_expiry_value(self) -> Decimal:
        return sum((lot.value for lot in self.near_expiry), Decimal("0.00"))

    @property
    def expired_value(self) -> Decimal:
        return sum((lot.value for lot in self.expired), Decimal("0.00"))


def classify(lots: Iterable[LotAtRisk], today: date, horizon_days: int) -> ExpiryReport:
    """Split lots with stock into expired (past their date) and near expiry (expiring on or
    before ``today + horizon_days``), soonest first; the rest are not reported."""
    if horizon_days < 1:
        raise ValueError("the horizon is at least a day")
    limit = today + timedelta(days=horizon_days)
    near, expired = [], []
    for lot in lots:
        if lot.quantity <= 0:
            continue
        if lot.expiry_date < today:
            expired.append(lot)
        elif lot.expiry_date <= limit:
            near.append(lot)

    def order(lot: LotAtRisk) -> tuple[date, str, str]:
        return (lot.expiry_date, lot.drug_code, lot.lot_number)

    return ExpiryReport(horizon_days, sorted(near, key=order), sorted(expired, key=order))
