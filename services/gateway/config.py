"""Everything the gateway's use cases need besides a unit of work, loaded once at start."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from libs.events.pseudonym import DEVELOPMENT_PSEUDONYM_SECRET, pseudonymise
from libs.platform.clock import CountyClock
from libs.platform.settings import PlatformSettings
from services.gateway.domain.fhir_profile import FhirProfile
from services.gateway.domain.systems import (
    OpeningHours,
    SystemFormat,
    SystemKind,
    SystemRules,
)
from services.gateway.settings import Settings

__all__ = ["GatewayConfig", "load_config", "parse_systems"]

#: Outside production, a system the county has issued no secret gets this one (clearly not
#: a real secret); production refuses requests from such a system.
DEVELOPMENT_SECRET_PREFIX = "DEVELOPMENT-"  # noqa: S105 (a marker, not a secret)


@dataclass(frozen=True)
class GatewayConfig:
    systems: tuple[SystemRules, ...]
    """The systems of ``infra/gateway/systems.yaml``, registered at start."""
    clock: CountyClock
    profile: FhirProfile
    pseudonym_secret: bytes
    max_batch_messages: int
    production: bool
    development_secret: bool = False

    def now(self) -> datetime:
        """The county clock's now, in UTC (SQLite keeps an instant without its zone)."""
        return self.clock.now().astimezone(UTC)

    def pseudonym(self, national_id: str) -> str:
        return pseudonymise(national_id, self.pseudonym_secret)

    def digest(self, body: bytes) -> str:
        """A digest of a request body keyed with the county secret: it can tell two bodies
        apart but cannot be tested against guessed national ids."""
        return hmac.new(self.pseudonym_secret, body, hashlib.sha256).hexdigest()

    def development_secret_of(self, system_id: str) -> str | None:
        return None if self.production else DEVELOPMENT_SECRET_PREFIX + system_id


def parse_systems(document: dict[str, Any]) -> tuple[SystemRules, ...]:
    """The systems of a ``systems.yaml`` document (each inherits ``defaults``)."""
    defaults = document.get("defaults") or {}
    found: list[SystemRules] = []
    for entry in document.get("systems") or []:
        item = {**defaults, **entry}
        found.append(
            SystemRules(
                system_id=str(item["system_id"]),
                facility_id=str(item["facility_id"]),
                kind=SystemKind(item["kind"]),
                format=SystemFormat(item["format"]),
                product=str(item.get("product") or item["system_id"]),
                opening_hours=OpeningHours.parse(list(item["opening_hours"])),
                silent_after=timedelta(minutes=float(item["silent_after_minutes"])),
                requests_per_minute=int(item["requests_per_minute"]),
                burst=int(item["burst"]),
                max_request_bytes=int(item["max_request_bytes"]),
            )
        )
    ids = [s.system_id for s in found]
    if len(ids) != len(set(ids)):
        raise ValueError("systems.yaml names a system twice")
    return tuple(found)


def _yaml(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        doc = yaml.safe_load(handle)
    if not isinstance(doc, dict):
        raise ValueError(f"{path} is not a YAML mapping")
    return doc


def load_config(platform: PlatformSettings, settings: Settings) -> GatewayConfig:
    secret = platform.pseudonym_key()
    return GatewayConfig(
        systems=parse_systems(_yaml(settings.systems_config)),
        clock=platform.county_clock(),
        profile=FhirProfile(national_id_system=settings.national_id_system),
        pseudonym_secret=secret,
        max_batch_messages=settings.max_batch_messages,
        production=platform.environment == "production",
        development_secret=secret == DEVELOPMENT_PSEUDONYM_SECRET,
    )
