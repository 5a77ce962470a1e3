"""Settings shared by every service process, read from the environment (no prefix).

Service-specific settings subclass :class:`ServiceSettings` with their own prefix
(``PHARMACY_``, ``FINANCE_``...). Production mode refuses defaults for secrets.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from libs.events.credentials import KafkaCredentials
from libs.platform.clock import DEFAULT_ZONE, CountyClock, known_zone

__all__ = ["PlatformSettings", "ServiceSettings"]

REPO_ROOT = Path(__file__).resolve().parents[2]
#: Per-service time zones, replaced by the platform's one ``COUNTY_TIMEZONE``.
RETIRED_ZONE_SETTINGS = ("REPORTING_TIMEZONE", "REFERRAL_TIMEZONE")


class PlatformSettings(BaseSettings):
    """What every service shares: where the broker is, how to log, which keys sign tokens."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    environment: Literal["development", "production"] = "development"
    log_level: str = "INFO"
    log_format: Literal["json", "console"] = "json"
    data_dir: Path = Field(
        default=REPO_ROOT / ".data", description="SQLite files and worker state in development."
    )

    county_timezone: str = Field(
        default=DEFAULT_ZONE,
        description="The county's time zone: every service's days, months and business dates.",
    )

    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    kafka_topic_prefix: str = Field(
        default="",
        pattern=r"^[a-z0-9._-]{0,40}$",
        description="Namespace for every topic and consumer group on a shared cluster, e.g. 'qs.'.",
    )
    # Who this process is to the broker (libs/events/credentials.py): its own principal, which
    # may write only its topics and read only what it consumes (libs/events/access.py).
    kafka_security_protocol: Literal["PLAINTEXT", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"] = "SCRAM-SHA-512"
    kafka_sasl_username: str = ""
    kafka_sasl_password: SecretStr = SecretStr("")
    # Kafka's own defaults. The launcher and the tests set short ones so that a crashed
    # worker's partitions move to another within seconds (docs/architecture.md).
    kafka_session_timeout_s: float = 45.0
    kafka_heartbeat_interval_s: float = 3.0
    kafka_rebalance_timeout_s: float = 60.0
    # Never shrink: a worker that stops polling for this long is evicted from its group.
    kafka_max_poll_interval_s: float = 300.0
    kafka_max_poll_records: int = 500
    #: How long the relay's producer keeps trying one send before the relay gives up the
    #: round and sends the batch again later (the consumers skip what arrives twice).
    kafka_delivery_timeout_s: float = Field(default=30.0, ge=2.0)
    kafka_request_timeout_s: float = Field(default=15.0, ge=1.0)
    #: How long the broker may hold a consumer's fetch while it has nothing new (Kafka's
    #: ``fetch.max.wait.ms``). Kafka answers as soon as a record arrives anyway; the embedded
    #: Tansu holds the fetch for all of it, so it bounds each hop's latency there. An idle
    #: consumer sends a fetch this often.
    kafka_fetch_max_wait_s: float = Field(default=0.05, gt=0, le=1.5)
    consume_batch_size: int = 500
    #: The longest a batch waits to fill after its first record (while records keep coming).
    consume_batch_within_s: float = 0.2
    #: A batch is taken once no record arrived for this long: one record at low load, a full
    #: batch under load (libs/platform/batching.py).
    consume_batch_linger_s: float = Field(default=0.01, ge=0)
    consume_max_attempts: int = 5
    #: How long an event naming master data (a facility) this service's copy lacks yet, but
    #: its producing service knew, stays parked (holding only its own key's later events)
    #: before it is dead-lettered as ``unknown_facility`` (libs/events/consuming/parking.py).
    consume_reference_grace_s: float = 60.0
    #: How often parked events are tried again.
    consume_parked_retry_s: float = Field(default=1.0, gt=0)
    #: A worker whose consumers stay unready this long exits for its supervisor to restart it.
    consumer_stuck_exit_s: float = 300.0
    topic_wait_s: float = 120.0

    auth_keys: str = Field(
        default="",
        description="Token signing keys, 'kid:secret' separated by commas; the first signs, all "
        "verify (rotation). Required in production.",
    )
    auth_issuer: str = "county-medical-community"
    pseudonym_secret: str = Field(default="", description="County secret for patient pseudonyms.")

    http_host: str = "127.0.0.1"
    http_max_body_bytes: int = Field(default=1_048_576, ge=1024)
    rate_limit_per_minute: int = Field(
        default=600, ge=1, description="Mutating requests per minute per token."
    )
    rate_limit_burst: int = Field(default=100, ge=1)
    migrate_on_start: bool = Field(
        default=True,
        description="Apply migrations when the process starts; off where a migration job does it.",
    )

    @field_validator("county_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return known_zone(value)

    def county_clock(self) -> CountyClock:
        """The county's clock on the real time (tests make one with a fixed ``now``)."""
        return CountyClock.of(self.county_timezone)

    def pseudonym_key(self) -> bytes:
        """The county key for patient pseudonyms (the development one outside production)."""
        from libs.events.pseudonym import DEVELOPMENT_PSEUDONYM_SECRET

        secret = self.pseudonym_secret.encode("utf-8")
        if not secret:
            if self.environment == "production":  # the validator refuses this already
                raise ValueError("PSEUDONYM_SECRET is required in production")
            return DEVELOPMENT_PSEUDONYM_SECRET
        if len(secret) < 16:
            raise ValueError("PSEUDONYM_SECRET must be at least 16 bytes")
        return secret

    def kafka_credentials(self) -> KafkaCredentials:
        """This process's identity to the broker (a ValueError names what is missing)."""
        return KafkaCredentials(
            security_protocol=self.kafka_security_protocol,
            mechanism=self.kafka_sasl_mechanism,
            username=self.kafka_sasl_username,
            password=self.kafka_sasl_password.get_secret_value(),
        )

    @model_validator(mode="after")
    def _no_retired_zone(self) -> PlatformSettings:
        # A county that set its zone the old way must not silently move to the default one.
        for name in RETIRED_ZONE_SETTINGS:
            if os.environ.get(name):
                raise ValueError(f"{name} is retired: set COUNTY_TIMEZONE (one clock for all)")
        return self

    @model_validator(mode="after")
    def _request_within_delivery(self) -> PlatformSettings:
        if self.kafka_request_timeout_s >= self.kafka_delivery_timeout_s:
            raise ValueError("KAFKA_REQUEST_TIMEOUT_S must be below KAFKA_DELIVERY_TIMEOUT_S")
        return self

    @model_validator(mode="after")
    def _production_needs_secrets(self) -> PlatformSettings:
        if self.environment == "production":
            missing = [n for n in ("auth_keys", "pseudonym_secret") if not getattr(self, n)]
            if missing:
                raise ValueError(f"production mode needs {', '.join(n.upper() for n in missing)}")
            if self.kafka_security_protocol == "PLAINTEXT":
                raise ValueError(
                    "production mode needs an authenticated broker connection: "
                    "KAFKA_SECURITY_PROTOCOL=SASL_PLAINTEXT or SASL_SSL with KAFKA_SASL_*"
                )
        self.kafka_credentials()  # refuses a SASL protocol without a principal
        return self


class ServiceSettings(BaseSettings):
    """Per-service settings; subclasses set ``env_prefix``."""

    model_config = SettingsConfigDict(extra="ignore")

    http_port: int = 8000
    database_url: str = Field(default="", description="Default: a SQLite file in DATA_DIR.")

    def database_url_or_default(self, platform: PlatformSettings, service: str) -> str:
        if self.database_url:
            return self.database_url
        platform.data_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{platform.data_dir / f'{service}.sqlite3'}"
