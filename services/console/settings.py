"""Console settings (environment prefix ``CONSOLE_``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from libs.platform.settings import REPO_ROOT, ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CONSOLE_", extra="ignore")

    http_port: int = 8100
    service_urls: dict[str, str] = Field(
        default_factory=dict,
        description='Where each service\'s admin API answers, as JSON ({"referral": '
        '"http://referral:8104", …}); a service not named is asked on 127.0.0.1 at its '
        "declared port (or its <NAME>_HTTP_PORT).",
    )
    demo_accounts: Path | None = Field(
        default=REPO_ROOT / "infra" / "console" / "demo-accounts.yaml",
        description="Sign-ins created at the first start in development (never in production).",
    )
    session_idle_minutes: int = Field(default=30, ge=1, le=480)
    session_hours: int = Field(default=12, ge=1, le=24)
    service_token_minutes: int = Field(
        default=5, ge=1, le=60, description="Life of the token a page sends to a service."
    )
    sign_in_failures_per_account: int = Field(
        default=5, ge=1, description="Failed sign-ins that lock an account for the window."
    )
    sign_in_failures_per_client: int = Field(
        default=30, ge=1, description="Failed sign-ins from one address that refuse it."
    )
    sign_in_window_minutes: int = Field(default=15, ge=1)
    secure_cookies: bool | None = Field(
        default=None,
        description="Send the session cookie over HTTPS only; on in production unless set.",
    )
    refresh_seconds: float = Field(
        default=5.0, gt=0, le=60, description="How often an open board asks for changes."
    )
