"""A supervisor event listener: the services follow the broker.

- The broker wrapper became RUNNING: wait until the broker has the suite's topics, then
  start the service group (the first time) or restart it (after a broker restart: the
  embedded broker lost every topic and group, and a Faust worker connected to it hangs).
- The broker wrapper exited or failed: stop the services until it is back.

It also prints a banner when every service answers ``/readyz``.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
import urllib.request
from typing import Any

from supervisor import childutils

from libs.events.topics import load_declarations, missing_topics
from libs.launcher.scaling import READY_PORTS, parse_ready_ports
from libs.platform.service import definitions

GROUP = "services"
BROKER = "broker"
STOPPED_STATES = {"PROCESS_STATE_EXITED", "PROCESS_STATE_BACKOFF", "PROCESS_STATE_FATAL"}
DOWN_STATES = {"STOPPED", "EXITED", "FATAL"}


def say(message: str) -> None:
    # stdout is the event protocol's channel; humans read stderr.
    print(f"[launcher] {message}", file=sys.stderr, flush=True)


def wait_for_topics(bootstrap: str, timeout_s: float = 60.0) -> bool:
    wanted = [d.name for d in load_declarations()]
    prefix = os.environ.get("KAFKA_TOPIC_PREFIX", "")
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):  # the broker is still coming up
            if not missing_topics(bootstrap, wanted, prefix=prefix):
                return True
        time.sleep(0.5)
    return False


def restart_services(rpc: Any, timeout_s: float = 60.0) -> None:
    """Stop whatever of the group still runs, wait until all of it is down, start it.

    Starting while a service is still STOPPING is refused as "already running", and once it
    stops nobody would start it again: so wait for the states, not for the request.
    """
    with contextlib.suppress(Exception):  # some were not running: nothing to stop
        rpc.supervisor.stopProcessGroup(GROUP, False)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        states = {
            p["name"]: p["statename"]
            for p in rpc.supervisor.getAllProcessInfo()
            if p["group"] == GROUP
        }
        if all(state in DOWN_STATES for state in states.values()):
            break
        time.sleep(0.2)
    else:
        say(f"services did not stop within {timeout_s}s: {states}")
    rpc.supervisor.startProcessGroup(GROUP, False)


def announce_when_ready(ports: dict[str, int]) -> None:
    pending = dict(ports)
    deadline = time.monotonic() + 180
    while pending and time.monotonic() < deadline:
        for name, port in list(pending.items()):
            with contextlib.suppress(Exception):  # not up yet
                url = f"http://127.0.0.1:{port}/readyz"
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        del pending[name]
        time.sleep(1)
    if pending:
        say(f"not ready after 3 minutes: {', '.join(sorted(pending))}")
    else:
        say(
            "all services ready: "
            + ", ".join(f"{n} http://127.0.0.1:{p}" for n, p in ports.items())
        )


def main() -> int:
    rpc: Any = childutils.getRPCInterface(os.environ)
    bootstrap = os.environ["KAFKA_BOOTSTRAP_SERVERS"]
    # Every service process's port (several for a service run as several processes).
    ports = parse_ready_ports(os.environ.get(READY_PORTS, "")) or {
        name: int(os.environ[f"{name.upper()}_HTTP_PORT"]) for name in definitions()
    }
    generation = 0
    while True:
        headers, payload = childutils.listener.wait(sys.stdin, sys.stdout)
        event = headers["eventname"]
        body = childutils.get_headers(payload.split("\n", 1)[0])
        try:
            if body.get("processname") == BROKER:
                if event == "PROCESS_STATE_RUNNING":
                    if not wait_for_topics(bootstrap):
                        say("broker has no topics after 60s; services not started")
                    else:
                        if generation:
                            say("broker restarted: restarting every service")
                        restart_services(rpc)
                        generation += 1
                        threading.Thread(
                            target=announce_when_ready, args=(ports,), daemon=True
                        ).start()
                elif event in STOPPED_STATES and generation:
                    say(f"broker {event.removeprefix('PROCESS_STATE_').lower()}: stopping services")
                    rpc.supervisor.stopProcessGroup(GROUP, False)
        except Exception as exc:  # supervisord shutting down, or a process already stopped
            say(f"could not act on {event}: {exc!r}")
        childutils.listener.ok(sys.stdout)


if __name__ == "__main__":
    sys.exit(main())
