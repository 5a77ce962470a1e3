"""Referral service settings (environment prefix ``REFERRAL_``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from libs.platform.settings import REPO_ROOT, ServiceSettings

_INFRA = REPO_ROOT / "infra" / "referral"


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="REFERRAL_", extra="ignore")

    http_port: int = 8104
    sla_config: Path = Field(default=_INFRA / "sla.yaml", description="SLA table per priority.")
    codes_config: Path = Field(default=_INFRA / "codes.yaml", description="Reason code lists.")
    sla_scan_interval_s: float = Field(
        default=30.0, gt=0, description="How often the SLA job looks for breaches and expiries."
    )
    capacity_lookahead_days: int = Field(
        default=14, ge=0, le=180, description="How far ahead a request looks for a free slot/bed."
    )
    follow_up_default_days: int = Field(
        default=30, ge=1, le=365, description="Follow-up window when the plan names none."
    )
    backdate_limit_h: float = Field(
        default=24.0, ge=0, description="How long after the fact a referral may be entered."
    )
    patient_data_keys: str = Field(
        default="",
        description="'kid:base64-32-byte-key,...' encrypting patient names and identity numbers "
        "at rest; the first encrypts, all decrypt. Required in production.",
    )
