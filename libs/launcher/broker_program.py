"""The broker program the supervisor runs: Tansu plus the suite's topics, or nothing.

    python -m libs.launcher.broker_program --port 9092

Starts Tansu on the port (checking that our child really holds it), creates every declared
topic, then waits. If Tansu dies, this program exits non-zero so the supervisor restarts it
(and the launcher's listener restarts the services, which would hang on a restarted broker).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from types import FrameType

from libs.events.topics import create_topics
from libs.launcher.broker import EmbeddedBroker


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m libs.launcher.broker_program")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)

    broker = EmbeddedBroker(args.port, log=None)
    stopping = False

    def stop(signum: int, _: FrameType | None) -> None:
        # Only forward the signal: waiting here would re-enter Popen.wait, which the main
        # thread is blocked in (and holds the lock of). The main thread reaps Tansu.
        nonlocal stopping
        stopping = True
        broker.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    broker.start()
    outcome = create_topics(
        broker.bootstrap_servers, prefix=os.environ.get("KAFKA_TOPIC_PREFIX", "")
    )
    created = sum(1 for v in outcome.values() if v == "created")
    print(
        f"embedded broker ready on {broker.bootstrap_servers}: {created} topics created, "
        f"{len(outcome) - created} existed",
        flush=True,
    )
    process = broker.process
    assert process is not None
    code = process.wait()
    if stopping:
        return 0
    print(f"embedded broker exited with {code}; the supervisor will restart it", flush=True)
    return 1


if __name__ == "__main__":
    sys.exit(main())
