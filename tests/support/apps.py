"""A service's admin app in the test's own process: the process a service would run, built
from its declaration (libs/platform/service.py) on a migrated database, without starting its
worker — for what an HTTP request shows (errors, roles, fuzzing), at a fraction of the cost
of a real process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from libs.events import CloudEvent
from libs.platform.migrations import upgrade
from libs.platform.service import definitions
from libs.platform.settings import PlatformSettings
from libs.platform.worker import ServiceProcess
from tests.support.harness import HandlerHarness
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


def organisation_events(
    directory: Path, prefixes: tuple[str, ...] = ("organisation.",)
) -> list[CloudEvent[Any]]:
    """The seed county's organisation events (or the others of ``prefixes``, e.g. the staff
    registry's ``staffing.staff.``), as staffing publishes them when it starts."""
    staffing = in_process("staffing", f"sqlite:///{directory / 'staffing.sqlite3'}", directory)
    for hook in staffing.on_start:
        hook(staffing)
    harness = HandlerHarness("staffing", staffing.database_url)
    events = [e for e in harness.published() if e.type.startswith(prefixes)]
    harness.close()
    staffing.database.dispose()
    return events


def holding_the_county(
    process: ServiceProcess, organisation: list[CloudEvent[Any]]
) -> HandlerHarness:
    """``process`` after its start: its seed data, the county's organisation applied through
    its own handlers, and the opening stock booked (pharmacy). Returns its harness."""
    harness = HandlerHarness(
        process.name, process.database_url, units_of_work=process.units_of_work
    )
    for hook in process.on_start:
        hook(process)
    result = harness.apply(*organisation)
    assert not result.dead_lettered, result.dead_lettered
    for job in process.periodic:  # the opening stock, booked once the facilities are known
        if job.name == "opening_stock":
            job.run()
    return harness
