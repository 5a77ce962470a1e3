"""Finance service settings (environment prefix ``FINANCE_``)."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import SettingsConfigDict

from libs.platform.settings import REPO_ROOT, ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="FINANCE_", extra="ignore")

    http_port: int = 8102
    policy_path: Path = REPO_ROOT / "infra" / "finance" / "policy.yaml"
    budget_check_interval_s: float = 3600.0
