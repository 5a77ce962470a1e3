"""A relay process that dies (SIGKILL) after the broker acknowledged a batch and before it
could mark the rows published: the worst moment for a crash.

    python -m tests.support.crashing_relay <database-url> <bootstrap-servers> <service> [prefix]
"""

from __future__ import annotations

import os
import signal
import sys

from libs.events.outbox import OutboxRelay, kafka_producer_factory
from libs.platform.database import create_database
from tests.support.delivery import metrics


class CrashingRelay(OutboxRelay):
    def _mark_published(self, ids: list[int]) -> None:
        print(f"published {len(ids)} records; dying before marking them", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)


def main() -> None:
    url, bootstrap, service = sys.argv[1:4]
    prefix = sys.argv[4] if len(sys.argv) > 4 else ""
    database = create_database(url)
    relay = CrashingRelay(
        database.sessions,
        database.engine,
        kafka_producer_factory(bootstrap, f"{service}-crashing-relay"),
        name=service,
        metrics=metrics(service),
        topic_prefix=prefix,
    )
    relay.publish_pending()
    raise SystemExit("the relay should have died")


if __name__ == "__main__":
    main()
