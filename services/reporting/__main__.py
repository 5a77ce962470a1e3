"""``python -m services.reporting``: run the reporting service process.

``python -m services.reporting rebuild`` restores an empty reporting database (cells,
organisation copy, stationing spans, feed episodes, decided review holds) from the
changelog, master-data and retained source topics; see
:mod:`services.reporting.service_layer.rebuild`.
"""

from __future__ import annotations

import argparse
import json
import sys

from services.reporting.bootstrap import SERVICE


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.reporting", description=__doc__)
    parser.add_argument("command", nargs="?", choices=["run", "rebuild"], default="run")
    parser.add_argument("--database-url", default=None, help="default: REPORTING_DATABASE_URL")
    parser.add_argument(
        "--bootstrap-servers", default=None, help="default: KAFKA_BOOTSTRAP_SERVERS"
    )
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per topic")
    args = parser.parse_args(argv)
    if args.command == "run":
        SERVICE.build().run()
        return 0
    from libs.events.consuming import HandlerRegistry
    from libs.platform.database import create_database
    from libs.platform.logging import configure_logging
    from libs.platform.migrations import upgrade
    from libs.platform.settings import PlatformSettings
    from services.reporting.adapters.schema import MIGRATIONS
    from services.reporting.bootstrap import NAME, county_of
    from services.reporting.handlers import register_organisation
    from services.reporting.service_layer.rebuild import DatabaseNotEmpty, rebuild
    from services.reporting.service_layer.unit_of_work import ReportingUnitOfWork
    from services.reporting.settings import Settings

    platform = PlatformSettings()
    settings = Settings()
    configure_logging(NAME, platform.log_level, platform.log_format)
    url = args.database_url or settings.database_url_or_default(platform, NAME)
    upgrade(MIGRATIONS, url)
    database = create_database(url)
    county = county_of(platform, settings)
    try:
        report = rebuild(
            database,
            lambda: ReportingUnitOfWork(
                database.sessions, source=f"/services/{NAME}", county=county
            ),
            args.bootstrap_servers or platform.kafka_bootstrap_servers,
            organisation=register_organisation(HandlerRegistry()),
            prefix=platform.kafka_topic_prefix,
            timeout_s=args.timeout,
        )
    except DatabaseNotEmpty as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 2
    finally:
        database.dispose()
    print(json.dumps(report.__dict__))
    return 0


if __name__ == "__main__":
    sys.exit(main())
