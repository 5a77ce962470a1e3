"""Reporting service settings (environment prefix ``REPORTING_``)."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from libs.platform.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="REPORTING_", extra="ignore")

    http_port: int = 8105
    timezone: str = Field(
        default="Asia/Shanghai",
        description="The county's time zone: days and months of the indicators are local.",
    )
    county_id: str = Field(
        default="QS",
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,31}$",
        description="The county's organisation-unit id (its county code) in the indicators.",
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)
