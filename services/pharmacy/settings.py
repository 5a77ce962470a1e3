"""Pharmacy service settings (environment prefix ``PHARMACY_``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from libs.platform.settings import REPO_ROOT, ServiceSettings

INFRA = REPO_ROOT / "infra" / "pharmacy"


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="PHARMACY_", extra="ignore")

    http_port: int = 8101
    policy_file: Path = Field(
        default=INFRA / "policy.yaml",
        description="Local policy: near-expiry horizon, replenishment levels, reservations.",
    )
    formulary_seed: str = Field(
        default=str(INFRA / "formulary.yaml"),
        description="The seed formulary published at start; empty for none.",
    )
    opening_stock: str = Field(
        default=str(INFRA / "opening-stock.yaml"),
        description="Opening balances booked once per lot; empty for none.",
    )
