"""Staffing service settings (environment prefix ``STAFFING_``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from libs.platform.settings import REPO_ROOT, ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="STAFFING_", extra="ignore")

    http_port: int = 8103
    rules_config: Path = Field(
        default=REPO_ROOT / "infra" / "staffing" / "rules.yaml",
        description="Session times, host facility types, specialists, coverage rules.",
    )
    staff_config: Path = Field(
        default=REPO_ROOT / "infra" / "staffing" / "seed-staff.yaml",
        description="The seed staff list loaded at start (idempotently).",
    )
    load_seed_staff: bool = Field(
        default=True, description="Load the seed staff list at start (off: an empty registry)."
    )
    seed_retry_interval_s: float = Field(
        default=2.0,
        gt=0,
        description="How often seed staff whose facility is not known yet (the organisation's "
        "events not consumed yet) are tried again.",
    )
