"""Everything the referral use cases need besides a unit of work, loaded once at start."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import yaml

from libs.events.pseudonym import DEVELOPMENT_PSEUDONYM_SECRET, pseudonymise
from libs.platform.clock import CountyClock
from libs.platform.settings import PlatformSettings
from services.referral.adapters.crypto import PatientDataCipher, load_patient_keys
from services.referral.domain.codes import ReferralCodes, parse_codes
from services.referral.domain.sla import SlaPolicy, parse_sla
from services.referral.settings import Settings

__all__ = ["ReferralConfig", "load_config"]


@dataclass(frozen=True)
class ReferralConfig:
    sla: SlaPolicy
    codes: ReferralCodes
    clock: CountyClock
    """The county's calendar (``COUNTY_TIMEZONE``): capacity and follow-up days."""
    capacity_lookahead_days: int
    follow_up_default_days: int
    backdate_limit: timedelta
    pseudonym_secret: bytes
    cipher: PatientDataCipher
    development_secret: bool = False
    """True when the clearly-marked development pseudonym secret is in use."""

    def pseudonym(self, national_id: str) -> str:
        return pseudonymise(national_id, self.pseudonym_secret)


def _yaml(path: Path) -> dict[str, object]:
    with path.open(encoding="utf-8") as handle:
        doc = yaml.safe_load(handle)
    if not isinstance(doc, dict):
        raise ValueError(f"{path} is not a YAML mapping")
    return doc


def load_config(platform: PlatformSettings, settings: Settings) -> ReferralConfig:
    """Read the SLA table and code lists, and the secrets (development defaults outside
    production, clearly logged)."""
    production = platform.environment == "production"
    secret = platform.pseudonym_key()
    keys = load_patient_keys(settings.patient_data_keys, platform.data_dir, production=production)
    return ReferralConfig(
        sla=parse_sla(_yaml(settings.sla_config)),
        codes=parse_codes(_yaml(settings.codes_config)),
        clock=platform.county_clock(),
        capacity_lookahead_days=settings.capacity_lookahead_days,
        follow_up_default_days=settings.follow_up_default_days,
        backdate_limit=timedelta(hours=settings.backdate_limit_h),
        pseudonym_secret=secret,
        cipher=PatientDataCipher(keys),
        development_secret=secret == DEVELOPMENT_PSEUDONYM_SECRET,
    )
