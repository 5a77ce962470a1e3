"""Replenishment driven by consumption: re-order point and target level per facility and drug.

Average monthly consumption (AMC) over a look-back window decides both levels: the re-order
point is some months of stock, the target level more. Crossing the re-order point, or failing
to fill a demand, asks the central pharmacy for enough to reach the target again.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

__all__ = [
    "ItemHistory",
    "ReplenishmentPolicy",
    "StockLevels",
    "consumption_window_days",
    "levels_from_consumption",
    "levels_in_force",
    "quantity_to_request",
]

DAYS_PER_MONTH = Decimal(30)


@dataclass(frozen=True)
class ReplenishmentPolicy:
    """Local policy (``infra/pharmacy/policy.yaml``)."""

    lookback_days: int = 90
    min_window_days: int = 30
    reorder_point_months: Decimal = Decimal("1")
    target_months: Decimal = Decimal("3")

    def __post_init__(self) -> None:
        if not 0 < self.min_window_days <= self.lookback_days:
            raise ValueError("need 0 < min_window_days <= lookback_days")
        if not 0 <= self.reorder_point_months < self.target_months:
            raise ValueError("need 0 <= reorder_point_months < target_months")


@dataclass(frozen=True)
class StockLevels:
    """The levels in force for one facility and drug."""

    average_monthly_consumption: Decimal
    reorder_point: int
    target_level: int
    manual: bool = False


def consumption_window_days(days_since_first_movement: int, policy: ReplenishmentPolicy) -> int:
    """The days consumption is averaged over: the look-back, shorter for a new item, but never
    under the minimum (a first busy day must not read as a month's demand)."""
    return max(policy.min_window_days, min(policy.lookback_days, days_since_first_movement))


def levels_from_consumption(
    consumed: int, window_days: int, policy: ReplenishmentPolicy
) -> StockLevels:
    """Levels from ``consumed`` packs over ``window_days``; zero when nothing was consumed."""
    if consumed < 0 or window_days <= 0:
        raise ValueError("consumption cannot be negative and the window must be positive")
    amc = (Decimal(consumed) * DAYS_PER_MONTH / Decimal(window_days)).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    )
    exact = Decimal(consumed) * DAYS_PER_MONTH / Decimal(window_days)
    reorder = math.ceil(exact * policy.reorder_point_months)
    target = max(reorder, math.ceil(exact * policy.target_months))
    return StockLevels(amc, reorder, target)


def quantity_to_request(available: int, short: int, levels: StockLevels) -> int:
    """Packs to ask for, or 0 when no request is due.

    Due when a demand went unfilled (``short``) or stock fell to the re-order point of an item
    that is consumed at all; enough to reach the target level, and at least what was short.
    """
    crossed = levels.reorder_point > 0 and available <= levels.reorder_point
    if short <= 0 and not crossed:
        return 0
    return max(levels.target_level - available, short, 1)


@dataclass
class ItemHistory:
    """What the levels of one facility's drug are drawn from: the business day of its first
    movement, the packs dispensed per recent business day (the running figures), and the
    levels the pharmacy centre set by hand, if any."""

    first_moved_on: date | None = None
    dispensed: dict[date, int] = field(default_factory=dict)
    manual: tuple[int, int] | None = None  # (re-order point, target level)

    def dispense(self, day: date, packs: int) -> None:
        """Count packs dispensed on ``day`` (as the running table does when they are saved)."""
        if packs:
            self.dispensed[day] = self.dispensed.get(day, 0) + packs


def levels_in_force(history: ItemHistory, today: date, policy: ReplenishmentPolicy) -> StockLevels:
    """The levels set by hand, else from consumption over the window's business days, which
    end with ``today`` (an item first moved today is one day old)."""
    age = (today - history.first_moved_on).days + 1 if history.first_moved_on else 0
    window = consumption_window_days(age, policy)
    start = today - timedelta(days=window - 1)
    consumed = sum(packs for day, packs in history.dispensed.items() if start <= day <= today)
    computed = levels_from_consumption(consumed, window, policy)
    if history.manual is None:
        return computed
    reorder_point, target_level = history.manual
    return StockLevels(computed.average_monthly_consumption, reorder_point, target_level, True)
