"""Gateway settings (environment prefix ``GATEWAY_``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from libs.platform.settings import REPO_ROOT, ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore")

    http_port: int = 8107
    systems_config: Path = Field(
        default=REPO_ROOT / "infra" / "gateway" / "systems.yaml",
        description="The member systems that connect, with their facility, format and hours.",
    )
    national_id_system: str = Field(
        default="urn:oid:2.16.156.10011.1.1",
        max_length=200,
        description="The FHIR identifier system under which members send the resident "
        "identity number (居民身份证号码).",
    )
    feed_scan_interval_s: float = Field(
        default=60.0, gt=0, description="How often the gateway looks for silent feeds."
    )
    max_batch_messages: int = Field(
        default=500, ge=1, le=5000, description="The most messages (or bundle entries) per request."
    )
