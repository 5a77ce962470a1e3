"""Alembic migrations per service, sharing one environment and the backbone's branches.

Each service database holds several independent Alembic branches: ``delivery`` (outbox and
processed events, ``libs/events/migrations``), optionally ``directory`` (the organisation
replica, ``libs/directory/migrations``) and the service's own (``services/<name>/migrations``).
``upgrade`` applies all their heads; on PostgreSQL an advisory lock lets several processes of
one service start at once without racing each other's DDL.

    python -m libs.platform.migrations upgrade --service pharmacy [--database-url URL]
    python -m libs.platform.migrations revision --service pharmacy -m "add stock lots"
"""

from __future__ import annotations

import argparse
import sys
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData, create_engine, text

if TYPE_CHECKING:
    from libs.platform.service import ServiceDefinition

__all__ = ["MigrationPlan", "upgrade"]

REPO_ROOT = Path(__file__).resolve().parents[2]
ENV_DIR = Path(__file__).resolve().parent / "alembic"
DELIVERY_VERSIONS = REPO_ROOT / "libs" / "events" / "migrations"
AUDIT_VERSIONS = REPO_ROOT / "libs" / "platform" / "audit" / "migrations"


def _backbone_metadata() -> list[MetaData]:
    from libs.events.tables import delivery_metadata
    from libs.platform.audit.table import audit_metadata

    return [delivery_metadata, audit_metadata]


@dataclass(frozen=True)
class MigrationPlan:
    """What one service's database is made of.

    Every service database also holds the backbone's branches (``delivery``: outbox and
    processed events; ``audit``: the audit trail), whether or not the plan names them.
    """

    service: str
    versions: Path
    metadata: Sequence[MetaData]
    shared_versions: Sequence[Path] = field(default_factory=lambda: (DELIVERY_VERSIONS,))

    @property
    def all_versions(self) -> list[Path]:
        ordered = [DELIVERY_VERSIONS, AUDIT_VERSIONS, *self.shared_versions, self.versions]
        return list(dict.fromkeys(ordered))

    @property
    def all_metadata(self) -> list[MetaData]:
        return list(dict.fromkeys([*_backbone_metadata(), *self.metadata]))

    def config(self, database_url: str) -> Config:
        cfg = Config()
        cfg.set_main_option("script_location", str(ENV_DIR))
        cfg.set_main_option("version_locations", " ".join(str(p) for p in self.all_versions))
        cfg.set_main_option("path_separator", "space")
        cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
        cfg.attributes["target_metadata"] = self.all_metadata
        return cfg


def upgrade(plan: MigrationPlan, database_url: str) -> None:
    """Bring the database to every branch's head."""
    cfg = plan.config(database_url)
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                key = zlib.crc32(f"migrate:{plan.service}".encode()) & 0x7FFFFFFF
                conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
                conn.commit()
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "heads")
            conn.commit()
    finally:
        engine.dispose()


def _definition_of(service: str) -> ServiceDefinition:
    from libs.platform.service import definitions  # it imports this module

    found = definitions()
    if service not in found:
        raise SystemExit(f"unknown service {service!r}; declared: {', '.join(found)}")
    return found[service]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m libs.platform.migrations",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("command", choices=["upgrade", "revision", "heads", "current"])
    parser.add_argument("--service", required=True)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("-m", "--message", default="change")
    args = parser.parse_args(argv)
    definition = _definition_of(args.service)
    plan = definition.migrations
    if args.database_url is None:
        from libs.platform.settings import PlatformSettings

        args.database_url = definition.settings().database_url_or_default(
            PlatformSettings(), args.service
        )
    if args.command == "upgrade":
        upgrade(plan, args.database_url)
    elif args.command == "revision":
        cfg = plan.config(args.database_url)
        command.revision(
            cfg,
            message=args.message,
            autogenerate=True,
            head=f"{args.service}@head",
            version_path=str(plan.versions),
        )
    elif args.command == "heads":
        command.heads(plan.config(args.database_url), verbose=True)
    else:
        command.current(plan.config(args.database_url), verbose=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
