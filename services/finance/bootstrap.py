"""Composition root of the finance service."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import structlog
import yaml
from prometheus_client import CollectorRegistry

from libs.directory.api import router as directory_router
from libs.platform.clock import CountyClock
from libs.platform.service import ServiceDefinition
from libs.platform.settings import PlatformSettings
from libs.platform.worker import Periodic, ServiceProcess
from services.finance.adapters.schema import MIGRATIONS
from services.finance.api import appraisal_funds as appraisal_funds_api
from services.finance.api import budgets as budgets_api
from services.finance.api import ledger as ledger_api
from services.finance.api import settlements as settlements_api
from services.finance.domain.policy import FinancePolicy, parse_policy
from services.finance.handlers import HANDLERS
from services.finance.metrics import FinanceCollector, postings_counter
from services.finance.service_layer.budgets import open_due_budgets
from services.finance.service_layer.unit_of_work import FinanceUnitOfWork
from services.finance.settings import Settings

NAME = "finance"

log = structlog.get_logger("finance")


def load_policy(path: Path) -> FinancePolicy:
    """The local finance policy (``infra/finance/policy.yaml`` by default)."""
    return parse_policy(yaml.safe_load(path.read_text(encoding="utf-8")))


def compose(
    platform: PlatformSettings, settings: Settings, clock: CountyClock | None = None
) -> ServiceProcess:
    policy = load_policy(settings.policy_path)
    clock = clock or platform.county_clock()
    registry = CollectorRegistry()

    def open_budgets(_: ServiceProcess | None = None) -> None:
        # The year's bundle is prepaid at its start: open every budget whose year has begun.
        uow = process.unit_of_work()
        assert isinstance(uow, FinanceUnitOfWork)
        open_due_budgets(uow, clock.today())

    process = SERVICE.process(
        platform,
        settings,
        units_of_work=partial(
            FinanceUnitOfWork, policy=policy, clock=clock, postings=postings_counter(registry)
        ),
        registry=registry,
        collectors=[lambda p: FinanceCollector(p.database.sessions, clock)],
        on_start=[open_budgets],
        periodic=[Periodic("open_budgets", settings.budget_check_interval_s, open_budgets)],
    )
    return process


SERVICE = ServiceDefinition(
    name=NAME,
    port=8102,
    title="Finance service",
    description="Pooled ledger (独立建账、集中核算), the insurance bundle (打包支付), "
    "internal settlements and performance pay (绩效).",
    settings=Settings,
    migrations=MIGRATIONS,
    handlers=HANDLERS,
    routers=[
        ledger_api.router,
        budgets_api.router,
        settlements_api.router,
        appraisal_funds_api.router,
        directory_router,
    ],
    compose=compose,
)
