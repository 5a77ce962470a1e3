"""The pharmacy's local policy, read from ``infra/pharmacy/policy.yaml``."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from services.pharmacy.domain.replenishment import ReplenishmentPolicy

__all__ = ["Policy", "parse_policy"]


@dataclass(frozen=True)
class Policy:
    """Defaults are the common practice; the YAML file is where a county changes them."""

    near_expiry_days: int = 180
    write_off_expired: bool = True
    expiry_scan_interval_s: float = 3600.0
    replenishment: ReplenishmentPolicy = field(default_factory=ReplenishmentPolicy)
    reservation_hold_days: int = 14

    def __post_init__(self) -> None:
        if not 1 <= self.near_expiry_days <= 3650:
            raise ValueError("near_expiry_days must be between 1 and 3650")
        if self.reservation_hold_days < 1:
            raise ValueError("reservation_hold_days must be at least 1")


def parse_policy(doc: dict[str, Any]) -> Policy:
    """Validate the policy document; missing keys keep their defaults."""
    expiry = doc.get("expiry", {})
    replenishment = doc.get("replenishment", {})
    reservations = doc.get("referral_reservations", {})
    if "timezone" in doc:
        # a county that set its zone here must not silently move to the default one
        raise ValueError("the policy's timezone is retired: set COUNTY_TIMEZONE for every service")
    defaults = Policy()
    rules = ReplenishmentPolicy(
        lookback_days=int(replenishment.get("lookback_days", 90)),
        min_window_days=int(replenishment.get("min_window_days", 30)),
        reorder_point_months=Decimal(str(replenishment.get("reorder_point_months", "1"))),
        target_months=Decimal(str(replenishment.get("target_months", "3"))),
    )
    return Policy(
        near_expiry_days=int(expiry.get("near_expiry_days", defaults.near_expiry_days)),
        write_off_expired=bool(expiry.get("write_off_expired", defaults.write_off_expired)),
        expiry_scan_interval_s=float(
            expiry.get("scan_interval_s", defaults.expiry_scan_interval_s)
        ),
        replenishment=rules,
        reservation_hold_days=int(reservations.get("hold_days", defaults.reservation_hold_days)),
    )
