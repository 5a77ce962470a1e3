"""Quality service settings (environment prefix ``QUALITY_``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from libs.platform.settings import REPO_ROOT, ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="QUALITY_", extra="ignore")

    http_port: int = 8106
    review_rules: Path = Field(
        default=REPO_ROOT / "infra" / "quality" / "review-rules.yaml",
        description="The county's prescription review rules, SLA and review-before types.",
    )
    recognition: Path = Field(
        default=REPO_ROOT / "infra" / "quality" / "recognition.yaml",
        description="Recognised items with their windows and prices, and accredited members.",
    )
    shared_pharmacy: Path = Field(
        default=REPO_ROOT / "infra" / "quality" / "shared-pharmacy.yaml",
        description="The shared TCM pharmacy: its facility, senders, fees, delivery SLA.",
    )
    audit: Path = Field(
        default=REPO_ROOT / "infra" / "quality" / "audit.yaml",
        description="The prescription audit (处方点评): sampling, seed, verdict categories.",
    )
    audit_draw_interval_s: float = Field(
        default=3600.0, gt=0, description="How often last month's audit is drawn when due."
    )
    sla_scan_interval_s: float = Field(
        default=30.0, gt=0, description="How often held prescriptions are checked against the SLA."
    )
