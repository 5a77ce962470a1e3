"""Composition root of the pharmacy service."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import structlog
import yaml

from libs.directory.api import router as directory_router
from libs.platform.clock import CountyClock
from libs.platform.service import ServiceDefinition
from libs.platform.settings import PlatformSettings
from libs.platform.worker import Periodic, ServiceProcess
from services.pharmacy.adapters.schema import MIGRATIONS
from services.pharmacy.api import formulary, replenishment, reports, review_policy, stock, transfers
from services.pharmacy.domain.formulary import parse_formulary
from services.pharmacy.domain.policy import Policy, parse_policy
from services.pharmacy.handlers import HANDLERS
from services.pharmacy.metrics import PharmacyCollector
from services.pharmacy.service_layer.dispensing import DISPENSE_LATENCY
from services.pharmacy.service_layer.expiry import scan_all
from services.pharmacy.service_layer.formulary import sync_seed
from services.pharmacy.service_layer.opening_stock import apply_opening_stock, load_opening_stock
from services.pharmacy.service_layer.unit_of_work import PharmacyUnitOfWork, pharmacy_uow
from services.pharmacy.settings import Settings

NAME = "pharmacy"
OPENING_STOCK_INTERVAL_S = 5.0

log = structlog.get_logger("pharmacy")


def _yaml(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(document, dict):
        raise ValueError(f"{path}: expected a mapping")
    return document


def compose(
    platform: PlatformSettings, settings: Settings, clock: CountyClock | None = None
) -> ServiceProcess:
    """The pharmacy process; ``clock`` is the county's (tests fix its ``now``)."""
    clock = clock or platform.county_clock()
    policy: Policy = parse_policy(_yaml(settings.policy_file))
    seed = parse_formulary(_yaml(Path(settings.formulary_seed))) if settings.formulary_seed else []
    # Read an entry at a time: a province's file loaded whole would double the peak memory.
    opening = load_opening_stock(Path(settings.opening_stock)) if settings.opening_stock else []

    def units_of_work() -> PharmacyUnitOfWork:
        return pharmacy_uow(process.unit_of_work())

    def publish_formulary(_: ServiceProcess) -> None:
        published = sync_seed(units_of_work(), seed)
        log.info("seed formulary applied", published=len(published), entries=len(seed))

    opening_pending = [bool(opening)]

    def book_opening_stock() -> None:
        # Facilities arrive as events after start: keep trying until every entry is booked.
        if opening_pending[0]:
            opening_pending[0] = apply_opening_stock(units_of_work, opening) > 0

    process = SERVICE.process(
        platform,
        settings,
        units_of_work=partial(PharmacyUnitOfWork, policy=policy, clock=clock),
        on_start=[publish_formulary],
        periodic=[
            Periodic("opening_stock", OPENING_STOCK_INTERVAL_S, book_opening_stock),
            Periodic("expiry_scan", policy.expiry_scan_interval_s, lambda: _scan(units_of_work)),
        ],
        collectors=[
            lambda p: PharmacyCollector(
                p.database.sessions,
                clock.today,
                policy.near_expiry_days,
            ),
            lambda _: DISPENSE_LATENCY,
        ],
    )
    return process


def _scan(units_of_work: Any) -> None:
    scanned = scan_all(units_of_work)
    if scanned:
        log.info("expiry scan done", facilities=scanned)


SERVICE = ServiceDefinition(
    name=NAME,
    port=8101,
    title="Pharmacy service",
    description="Unified formulary (统一药品目录), stock per facility and lot, dispensing, "
    "transfers (调拨) and replenishment for the whole community.",
    settings=Settings,
    migrations=MIGRATIONS,
    handlers=HANDLERS,
    routers=[
        formulary.router,
        stock.router,
        transfers.router,
        replenishment.router,
        reports.router,
        review_policy.router,
        directory_router,
    ],
    compose=compose,
)
