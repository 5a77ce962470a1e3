"""The supervisord configuration of the embedded suite, written into the data directory."""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

__all__ = [
    "PORT_STRIDE",
    "PROCESS_ENV",
    "SERVICES",
    "control_socket",
    "program_ports",
    "supervisor_config",
]

if TYPE_CHECKING:
    #: The suite's services with their default admin ports, as declared
    #: (libs/platform/service.py).
    SERVICES: dict[str, int]


@cache
def _services() -> dict[str, int]:
    from libs.platform.service import definitions

    return {name: d.port for name, d in definitions().items()}


def __getattr__(name: str) -> Any:
    """``SERVICES`` is read on first use: finding the services imports every one of them (a
    few seconds), which ``status`` and ``tokens`` do not need (a loaded machine made ``make
    status`` take longer than half a minute)."""
    if name == "SERVICES":
        return _services()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


#: The environment every service process starts with unless told otherwise (the image sets
#: the same). glibc gives each thread that allocates an arena of its own, up to 8 a core; a
#: service's threads (consumer, processing, relay, HTTP) so spread and fragment its heap:
#: with the streamed opening stock, two arenas took pharmacy's peak at 100 counties from
#: ~290 to ~190 MiB (docs/performance.md).
PROCESS_ENV: dict[str, str] = {"MALLOC_ARENA_MAX": "2"}

#: Process ``i`` (from 0) of a service listens on its admin port + ``i`` × this: pharmacy's
#: second process on 8201, its third on 8301 (the declared ports are consecutive).
PORT_STRIDE = 100


def program_ports(
    ports: Mapping[str, int], processes: Mapping[str, int] | None = None
) -> dict[str, int]:
    """Each supervisord program's admin port: ``pharmacy`` when a service runs as one process
    (its port as given), ``pharmacy-1``, ``pharmacy-2``… when it runs as several."""
    programs: dict[str, int] = {}
    for name, port in ports.items():
        count = (processes or {}).get(name, 1)
        if count == 1:
            programs[name] = port
            continue
        for index in range(count):
            programs[f"{name}-{index + 1}"] = port + PORT_STRIDE * index
    return programs


_OUTPUT = """stdout_logfile=/dev/fd/1
stdout_logfile_maxbytes=0
redirect_stderr=true"""


def _esc(value: object) -> str:
    return str(value).replace("%", "%%")


#: sun_path is 108 bytes on Linux; supervisord fails to start on a longer socket path.
_MAX_SOCKET_PATH = 100


def control_socket(run_dir: Path) -> Path:
    """Where supervisord listens: in ``run_dir`` when the path fits a Unix socket address,
    else a short name in the temporary directory derived from ``run_dir`` (a deep data
    directory, as test runners make, must not stop the suite from starting)."""
    inside = run_dir / "supervisor.sock"
    if len(str(inside)) <= _MAX_SOCKET_PATH:
        return inside
    digest = hashlib.sha256(str(run_dir).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"county-supervisor-{digest}.sock"


def supervisor_config(
    *,
    run_dir: Path,
    repo_root: Path,
    broker_port: int,
    username: str,
    password: str,
    simulate: list[str] | None = None,
    processes: Mapping[str, int] | None = None,
    ports: Mapping[str, int] | None = None,
) -> str:
    """supervisord.conf: the broker first, the services once it is ready, and the listener
    that ties the services' lifetime to the broker's. The control socket needs the given
    credentials (the listener and ``status`` get them from the environment).

    With ``simulate`` (the simulator's arguments), a one-shot ``simulator`` program waits
    until every service is ready, plays a short simulated period and exits; it is not
    restarted (not even with the services after a broker restart).

    ``processes`` runs a service as several processes (``{"pharmacy": 2}``): programs
    ``pharmacy-1``, ``pharmacy-2``… in one consumer group, each on its own admin port
    (:func:`program_ports` of ``ports``, the services' admin ports, default as declared).
    Whoever asks must make sure they share a PostgreSQL database (``python -m libs.launcher
    run`` refuses SQLite)."""
    python = _esc(sys.executable)
    repo = _esc(repo_root)
    counts = dict(processes or {})
    services = _services()
    if set(counts) - set(services) or any(n < 1 for n in counts.values()):
        raise ValueError(f"processes must name services with a count of 1 or more: {counts}")
    base_ports = {**services, **(ports or {})}
    programs = program_ports(base_ports, counts)
    sections = [
        _supervisor_itself(run_dir, username, password),
        _broker_and_watch(python, repo, broker_port, list(programs)),
    ]
    for name in services:
        if counts.get(name, 1) == 1:
            sections.append(_service_program(name, python, repo))
            continue
        for index in range(counts[name]):
            program = f"{name}-{index + 1}"
            sections.append(_service_program(name, python, repo, program, programs[program]))
    if simulate is not None:
        sections.append(_simulator_program(simulate, python, repo))
    return "\n".join(sections)


def _supervisor_itself(run_dir: Path, username: str, password: str) -> str:
    """supervisord's own sections: its logs and pid in ``run_dir``, and the control socket
    that ``status`` and the listener reach it through, behind the credentials."""
    # Running as root is how containers and this machine run; say so, or supervisord warns.
    user = "\nuser=root" if os.geteuid() == 0 else ""
    run = _esc(run_dir)
    sock = _esc(control_socket(run_dir))
    return f"""[supervisord]
nodaemon=true{user}
logfile={run}/supervisord.log
pidfile={run}/supervisord.pid
childlogdir={run}
loglevel=warn

[unix_http_server]
file={sock}
chmod=0700
username={_esc(username)}
password={_esc(password)}

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://{sock}
username={_esc(username)}
password={_esc(password)}
"""


def _broker_and_watch(python: str, repo: str, broker_port: int, programs: list[str]) -> str:
    """The broker (started first, always restarted), the listener that ties the services'
    lifetime to it, and the services' group (not started until the broker is ready)."""
    return f"""[program:broker]
command={python} -m libs.launcher.broker_program --port {broker_port}
directory={repo}
priority=10
autostart=true
autorestart=true
startsecs=1
startretries=20
stopsignal=TERM
stopwaitsecs=10
{_OUTPUT}

[eventlistener:broker-watch]
command={python} -m libs.launcher.listener
directory={repo}
events=PROCESS_STATE
priority=5
autorestart=true
stderr_logfile=/dev/fd/2
stderr_logfile_maxbytes=0

[group:services]
programs={",".join(programs)}
priority=20
"""


def _service_program(
    name: str, python: str, repo: str, program: str | None = None, port: int | None = None
) -> str:
    """One service process: started by the listener once the broker is up, restarted
    patiently (it may come up before the database or the broker answer). One of several
    (``program`` ``pharmacy-2``) is given its own admin ``port``."""
    environment = f'\nenvironment={name.upper()}_HTTP_PORT="{port}"' if port is not None else ""
    return f"""[program:{program or name}]
command={python} -m libs.platform.run {name}{environment}
directory={repo}
autostart=false
autorestart=true
startsecs=3
startretries=100
stopsignal=TERM
stopwaitsecs=30
{_OUTPUT}
"""


def _simulator_program(simulate: list[str], python: str, repo: str) -> str:
    """The one-shot simulator: started last, never restarted, a clean exit expected."""
    args = " ".join(_esc(a) for a in simulate)
    return f"""[program:simulator]
command={python} -m simulator run {args}
directory={repo}
priority=30
autostart=true
autorestart=false
startsecs=0
exitcodes=0
stopsignal=TERM
stopwaitsecs=10
{_OUTPUT}
"""
