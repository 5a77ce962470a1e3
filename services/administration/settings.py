"""Administration service settings (environment prefix ``ADMINISTRATION_``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from libs.platform.settings import REPO_ROOT, ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ADMINISTRATION_", extra="ignore")

    http_port: int = 8108
    county_config: Path = Field(
        default=REPO_ROOT / "infra" / "county" / "seed-county.yaml",
        description="The county's organisation: communities and member facilities.",
    )
    appraisal: Path = Field(
        default=REPO_ROOT / "infra" / "administration" / "appraisal.yaml",
        description="The members' half-year scorecard (绩效考核): indicators, weights, bands.",
    )
    take_over_published: bool = Field(
        default=True,
        description="Read what is already on the organisation topics before publishing the "
        "county (the upgrade from staffing as the owner); off only without a broker "
        "(in-process tests).",
    )
    handover_timeout_s: float = Field(
        default=60.0,
        gt=0,
        description="How long the first start may take to read the organisation already "
        "published (by staffing, before administration owned it).",
    )
