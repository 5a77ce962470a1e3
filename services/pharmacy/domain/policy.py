"""The pharmacy's local policy, read from ``infra/pharmacy/policy.yaml``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from services.pharmacy.domain.replenishment import ReplenishmentPolicy

__all__ = ["Policy", "parse_policy"]


@dataclass(frozen=True)
class Policy:
    """Defaults are the common practice; the YAML file is where a county changes them."""

    timezone: str = "Asia/Shanghai"
    near_expiry_days: int = 180
    write_off_expired: bool = True
    expiry_scan_interval_s: float = 3600.0
    replenishment: ReplenishmentPolicy = field(default_factory=ReplenishmentPolicy)
    reservation_hold_days: int = 14

    def __post_init__(self) -> None:
        ZoneInfo(self.timezone)  # fail at start, not at the first expiry check
        if not 1 <= self.near_expiry_days <= 3650:
            raise ValueError("near_expiry_days must be between 1 and 3650")
        if self.reservation_hold_days < 1:
            raise ValueError("reservation_hold_days must be at least 1")

    def local_date(self, instant: datetime) -> date:
        """The county's calendar date at ``instant`` (expiry dates are local dates)."""
        return instant.astimezone(ZoneInfo(self.timezone)).date()


def parse_policy(doc: dict[str, Any]) -> Policy:
    """Validate the policy document; missing keys keep their defaults."""
    expiry = doc.get("expiry", {})
    replenishment = doc.get("replenishment", {})
    reservations = doc.get("referral_reservations", {})
    defaults = Policy()
    rules = ReplenishmentPolicy(
        lookback_days=int(replenishment.get("lookback_days", 90)),
        min_window_days=int(replenishment.get("min_window_days", 30)),
        reorder_point_months=Decimal(str(replenishment.get("reorder_point_months", "1"))),
        target_months=Decimal(str(replenishment.get("target_months", "3"))),
    )
    return Policy(
        timezone=str(doc.get("timezone", defaults.timezone)),
        near_expiry_days=int(expiry.get("near_expiry_days", defaults.near_expiry_days)),
        write_off_expired=bool(expiry.get("write_off_expired", defaults.write_off_expired)),
        expiry_scan_interval_s=float(
            expiry.get("scan_interval_s", defaults.expiry_scan_interval_s)
        ),
        replenishment=rules,
        reservation_hold_days=int(reservations.get("hold_days", defaults.reservation_hold_days)),
    )
