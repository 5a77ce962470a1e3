"""The one shape of a service: declared once, found by declaration, composed the same way.

A service's composition root (``services/<name>/bootstrap.py``) declares a
:class:`ServiceDefinition` — its name and port, settings class, migrations, handlers and
routers — and a ``compose`` function that loads its configuration and returns the running
process (:meth:`ServiceDefinition.process`): its unit-of-work factory, periodic jobs, start
hooks and metrics. ``pyproject.toml`` lists the definitions under the entry-point group
``county_backbone.services``; the suite's tools (migrations, the event catalogue's
documentation, the broker's access rules, the launcher) find services there, so ``libs``
never names one. Adding a service is the checklist in ``docs/architecture.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, Protocol

from fastapi import APIRouter, FastAPI
from prometheus_client import CollectorRegistry
from prometheus_client.registry import Collector
from sqlalchemy.orm import Session

from libs.events.consuming import HandlerRegistry
from libs.events.outbox import OutboxSignal
from libs.events.unit_of_work import UnitOfWork
from libs.platform.migrations import MigrationPlan
from libs.platform.settings import PlatformSettings, ServiceSettings

if TYPE_CHECKING:
    from libs.platform.worker import Periodic, ServiceProcess

__all__ = ["ENTRY_POINTS", "ServiceDefinition", "UnitsOfWork", "definitions"]

#: The entry-point group under which ``pyproject.toml`` lists the suite's services.
ENTRY_POINTS = "county_backbone.services"


class UnitsOfWork(Protocol):
    """Makes a service's unit of work on its database and outbox: its class, with whatever
    its configuration binds (a policy, a clock), e.g. ``partial(PharmacyUnitOfWork,
    policy=policy)``."""

    def __call__(
        self,
        session_factory: Callable[[], Session],
        *,
        source: str,
        signal: OutboxSignal | None = None,
    ) -> UnitOfWork: ...


@dataclass(frozen=True)
class ServiceDefinition:
    """What the suite knows of a service without running it, and how to run it."""

    name: str
    port: int
    """The admin API's default port (``<NAME>_HTTP_PORT`` overrides it)."""
    title: str
    description: str
    settings: type[ServiceSettings]
    migrations: MigrationPlan
    handlers: HandlerRegistry
    routers: Sequence[APIRouter]
    compose: Callable[[PlatformSettings, Any], ServiceProcess]
    """Loads the service's configuration and returns its process (see :meth:`process`)."""
    publishes_for: tuple[str, ...] = ()
    """Producers of the catalogue in whose name it publishes too (the gateway: ``his``); its
    Kafka principal may write their topics."""
    front_page: str = "/docs"
    """Where a person starts (``make run`` prints it): the API page, or the console's home."""
    introduction: Callable[[], list[str]] | None = None
    """Lines ``make run`` prints under the service's address (the console's demo sign-ins)."""

    def build(
        self, platform: PlatformSettings | None = None, settings: ServiceSettings | None = None
    ) -> ServiceProcess:
        """The service's process, from the environment unless settings are given."""
        return self.compose(platform or PlatformSettings(), settings or self.settings())

    def process(
        self,
        platform: PlatformSettings,
        settings: ServiceSettings,
        *,
        units_of_work: UnitsOfWork = UnitOfWork,
        registry: CollectorRegistry | None = None,
        collectors: Iterable[Callable[[ServiceProcess], Collector]] = (),
        periodic: Iterable[Periodic] = (),
        on_start: Iterable[Callable[[ServiceProcess], None]] = (),
        own_rate_limits: tuple[str, ...] = (),
        app_setup: Iterable[Callable[[FastAPI], None]] = (),
    ) -> ServiceProcess:
        """The process of this service: what the declaration says plus what ``compose``
        made of the configuration. ``registry`` is given when the unit of work feeds
        metrics of its own; ``collectors`` read the process's database at scrape time."""
        from libs.platform.worker import ServiceProcess

        process = ServiceProcess(
            name=self.name,
            title=self.title,
            description=self.description,
            platform=platform,
            http_port=settings.http_port,
            database_url=settings.database_url_or_default(platform, self.name),
            migrations=self.migrations,
            handlers=self.handlers,
            routers=self.routers,
            units_of_work=units_of_work,
            registry=registry or CollectorRegistry(),
            on_start=list(on_start),
            periodic=list(periodic),
            own_rate_limits=own_rate_limits,
            publishes_for=self.publishes_for,
            app_setup=list(app_setup),
        )
        for collector in collectors:
            process.registry.register(collector(process))
        return process


@cache
def _declared() -> tuple[ServiceDefinition, ...]:
    found: list[ServiceDefinition] = []
    for entry in entry_points(group=ENTRY_POINTS):
        definition = entry.load()
        if not isinstance(definition, ServiceDefinition) or definition.name != entry.name:
            raise TypeError(f"entry point {entry.name} = {entry.value} is no ServiceDefinition")
        found.append(definition)
    if not found:
        raise LookupError(
            f"no services declared under {ENTRY_POINTS!r}: is the project installed "
            "(pip install -e .)?"
        )
    return tuple(sorted(found, key=lambda d: d.port))


def definitions() -> dict[str, ServiceDefinition]:
    """Every declared service by name, in port order."""
    return {d.name: d for d in _declared()}
