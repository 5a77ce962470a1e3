"""Everything the quality use cases need besides a unit of work, loaded once at start."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from libs.platform.clock import CountyClock
from libs.platform.settings import PlatformSettings
from services.quality.domain.audit_standard import AuditStandard, parse_audit_standard
from services.quality.domain.recognition import RecognitionCatalogue, parse_recognition
from services.quality.domain.review import ReviewRules, parse_rules
from services.quality.domain.shared_pharmacy import SharedPharmacyConfig, parse_shared_pharmacy
from services.quality.settings import Settings

__all__ = ["QualityConfig", "load_config"]


@dataclass(frozen=True)
class QualityConfig:
    rules: ReviewRules
    recognition: RecognitionCatalogue
    audit: AuditStandard
    shared_pharmacy: SharedPharmacyConfig
    clock: CountyClock
    county_code: str

    def now(self) -> datetime:
        """The county clock's now, in UTC (SQLite keeps an instant without its zone)."""
        return self.clock.now().astimezone(UTC)


def _yaml(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        doc = yaml.safe_load(handle)
    if not isinstance(doc, dict):
        raise ValueError(f"{path} is not a YAML mapping")
    return doc


def load_config(platform: PlatformSettings, settings: Settings) -> QualityConfig:
    document = _yaml(settings.review_rules)
    return QualityConfig(
        rules=parse_rules({k: v for k, v in document.items() if k != "county_code"}),
        recognition=parse_recognition(_yaml(settings.recognition)),
        audit=parse_audit_standard(_yaml(settings.audit)),
        shared_pharmacy=parse_shared_pharmacy(_yaml(settings.shared_pharmacy)),
        clock=platform.county_clock(),
        county_code=str(document.get("county_code") or "QS"),
    )
