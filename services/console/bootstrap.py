"""Composition root of the console (运营工作台)."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

import structlog
import yaml

from libs.directory.api import router as directory_router
from libs.events.envelope import utc_now
from libs.platform.background import Periodic
from libs.platform.service import ServiceDefinition
from libs.platform.settings import PlatformSettings
from libs.platform.worker import ServiceProcess
from services.console.adapters.metrics import ConsoleCollector
from services.console.adapters.passwords import PasswordHashing
from services.console.adapters.schema import MIGRATIONS
from services.console.api import accounts as accounts_pages
from services.console.api import appraisal as appraisal_pages
from services.console.api import audits as audit_pages
from services.console.api import books as book_pages
from services.console.api import finance as finance_pages
from services.console.api import formulary as formulary_pages
from services.console.api import home as home_page
from services.console.api import operations as operations_pages
from services.console.api import personnel as personnel_pages
from services.console.api import pharmacy as pharmacy_pages
from services.console.api import referrals as referral_pages
from services.console.api import report as report_pages
from services.console.api import review as review_pages
from services.console.api import scorecards as scorecard_pages
from services.console.api import sign_in as sign_in_pages
from services.console.api import staffing as staffing_pages
from services.console.api import web
from services.console.config import load_config
from services.console.handlers import HANDLERS
from services.console.service_layer.accounts import DemoSignIns
from services.console.service_layer.unit_of_work import ConsoleUnitOfWork, console_uow
from services.console.settings import Settings

NAME = "console"

log = structlog.get_logger("console")


def compose(platform: PlatformSettings, settings: Settings) -> ServiceProcess:
    passwords = PasswordHashing()
    idle = timedelta(minutes=settings.session_idle_minutes)
    process = SERVICE.process(
        platform,
        settings,
        units_of_work=partial(ConsoleUnitOfWork, passwords=passwords),
        collectors=[lambda p: ConsoleCollector(p.database.sessions, idle)],
        app_setup=[web.install],
    )
    config = load_config(platform, settings, process.token_authority)
    process.units_of_work = partial(ConsoleUnitOfWork, passwords=passwords, config=config)
    if platform.environment != "production" and settings.demo_accounts is not None:
        demo = DemoSignIns(settings.demo_accounts, lambda: console_uow(process.unit_of_work()))

        def demo_sign_ins() -> None:
            created = demo.run(utc_now())
            if created:
                log.info("demo sign-ins created", accounts=created)

        process.periodic.append(Periodic("demo_sign_ins", 2.0, demo_sign_ins, first_run_s=0.5))
    return process


def introduction() -> list[str]:
    """The demo sign-ins ``make run`` prints (development only: a production console never
    creates them)."""
    path = Settings().demo_accounts
    if path is None:
        return []
    entries = yaml.safe_load(path.read_text(encoding="utf-8"))["accounts"]
    return ["demo sign-ins (用户名 / 密码):"] + [
        f"  {e['username']:<9} {e['password']:<21} {e['display_name']}" for e in entries
    ]


SERVICE = ServiceDefinition(
    name=NAME,
    port=8100,
    title="Console",
    description="The operations console (运营工作台): a Chinese web workplace over the "
    "services' admin APIs, for the management centre, the central pharmacy and review "
    "centre, finance, HR and the members' desks. It owns only its accounts and sessions.",
    settings=Settings,
    migrations=MIGRATIONS,
    handlers=HANDLERS,
    routers=[
        web.assets,
        sign_in_pages.router,
        home_page.router,
        referral_pages.router,
        formulary_pages.router,
        pharmacy_pages.router,
        audit_pages.router,
        review_pages.router,
        scorecard_pages.router,
        appraisal_pages.router,
        book_pages.router,
        finance_pages.router,
        personnel_pages.router,
        staffing_pages.router,
        report_pages.router,
        operations_pages.router,
        accounts_pages.router,
        directory_router,
    ],
    compose=compose,
    front_page="/",
    introduction=introduction,
)
