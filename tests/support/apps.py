"""A service's admin app in the test's own process: the process a service would run, built
from its declaration (libs/platform/service.py) on a migrated database, without starting its
worker — for what an HTTP request shows (errors, roles, fuzzing), at a fraction of the cost
of a real process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from libs.platform.migrations import upgrade
from libs.platform.service import definitions
from libs.platform.settings import PlatformSettings
from libs.platform.worker import ServiceProcess
from tests.support.referral import PATIENT_DATA_KEYS, PSEUDONYM_SECRET

#: Settings every in-process service gets, besides its database.
PLATFORM: dict[str, Any] = {"pseudonym_secret": PSEUDONYM_SECRET}
SERVICE_SETTINGS: dict[str, dict[str, Any]] = {
    "referral": {"patient_data_keys": PATIENT_DATA_KEYS},
}


def in_process(service: str, database_url: str, data_dir: Path, **platform: Any) -> ServiceProcess:
    """``service``'s process on a migrated database (its start hooks not run)."""
    definition = definitions()[service]
    settings = definition.settings(database_url=database_url, **SERVICE_SETTINGS.get(service, {}))
    process = definition.build(
        PlatformSettings(data_dir=data_dir, **PLATFORM, **platform), settings
    )
    upgrade(process.migrations, process.database_url)
    return process
