"""Reporting service settings (environment prefix ``REPORTING_``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from libs.platform.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="REPORTING_", extra="ignore")

    http_port: int = 8105
    county_id: str = Field(
        default="QS",
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,31}$",
        description="The county's organisation-unit id (its county code) in the indicators.",
    )
    feed_silence_interval_s: float = Field(
        default=60.0,
        gt=0,
        description="How often the minutes of feeds still silent are counted up to now.",
    )
