"""A service's admin app in the test's own process: the process a service would run, built
from its declaration (libs/platform/service.py) on a migrated database, without starting its
worker — for what an HTTP request shows (errors, roles, fuzzing), at a fraction of the cost
of a real process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI

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
    # No broker in a test's process: nothing published before it to take over.
    "administration": {"take_over_published": False},
}


def in_process(service: str, database_url: str, data_dir: Path, **platform: Any) -> ServiceProcess:
    """``service``'s process on a migrated database (its start hooks not run)."""
    definition = definitions()[service]
    settings = definition.settings(database_url=database_url, **SERVICE_SETTINGS.get(service, {}))
    process = definition.build(
        PlatformSettings(data_dir=data_dir, **PLATFORM, **platform), settings
    )
    upgrade(process.migrations, process.database_url)
    process.app_setup.append(_without_broker)
    return process


def _without_broker(app: FastAPI) -> None:
    """No broker in a test's process: its dead-letter topics read as empty (listing and
    replaying them on a real cluster is tests/e2e/test_console_flow.py's)."""
    if app.state.dead_letters is not None:
        app.state.dead_letters.read = lambda topics: []


def organisation_events(
    directory: Path, prefixes: tuple[str, ...] = ("organisation.",)
) -> list[CloudEvent[Any]]:
    """The seed county's organisation events as the administration publishes them when it
    starts (or the others of ``prefixes``, e.g. the staff registry's ``staffing.staff.``,
    which staffing announces once that organisation reached it through its handlers)."""
    administration = in_process(
        "administration", f"sqlite:///{directory / 'administration.sqlite3'}", directory
    )
    for hook in administration.on_start:
        hook(administration)
    organisation = _published(administration, ("organisation.",))
    events = [e for e in organisation if e.type.startswith(prefixes)]
    if any(not p.startswith("organisation.") for p in prefixes):
        staffing = in_process("staffing", f"sqlite:///{directory / 'staffing.sqlite3'}", directory)
        holding_the_county(staffing, organisation).close()
        others = tuple(p for p in prefixes if not p.startswith("organisation."))
        events += _published(staffing, others)
    return events


def _published(process: ServiceProcess, prefixes: tuple[str, ...]) -> list[CloudEvent[Any]]:
    """What ``process`` staged in its outbox of ``prefixes``' types; its database closed."""
    harness = HandlerHarness(process.name, process.database_url, handlers=process.handlers)
    events = [e for e in harness.published() if e.type.startswith(prefixes)]
    harness.close()
    process.database.dispose()
    return events


#: Periodic jobs that act once the organisation is known: pharmacy's opening stock, and
#: staffing's seed staff (whose facilities come from the administration's events).
_AFTER_THE_ORGANISATION = ("opening_stock", "seed_staff")


def holding_the_county(
    process: ServiceProcess, organisation: list[CloudEvent[Any]]
) -> HandlerHarness:
    """``process`` after its start: its seed data, the county's organisation applied through
    its own handlers, then what waited for it: the opening stock booked (pharmacy), the seed
    staff loaded (staffing). Returns its harness."""
    harness = HandlerHarness(
        process.name, process.database_url, units_of_work=process.units_of_work
    )
    for hook in process.on_start:
        hook(process)
    result = harness.apply(*organisation)
    assert not result.dead_lettered, result.dead_lettered
    for job in process.periodic:
        if job.name in _AFTER_THE_ORGANISATION:
            job.run()
    return harness
