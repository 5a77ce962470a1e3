"""``python -m libs.launcher run|status|tokens`` — the embedded suite (what ``make run`` runs).

``run`` starts, in the foreground, the Tansu broker and the five services under supervisord,
with SQLite files in the data directory (``DATA_DIR``, default ``.data/``) unless a service's
``*_DATABASE_URL`` points elsewhere. Ctrl-C stops everything. ``status`` asks the running
supervisor; ``tokens`` prints ready-made admin tokens.

``run --processes pharmacy=2`` (or ``PHARMACY_PROCESSES=2``) runs a service as several
processes in its one consumer group, each on its own admin port (8101, 8201, 8301…); they
must share a PostgreSQL database (``PHARMACY_DATABASE_URL``), never an SQLite file.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shlex
import sys
from datetime import timedelta
from pathlib import Path

from supervisor.options import ClientOptions

from libs.launcher import config
from libs.launcher.config import PROCESS_ENV, program_ports, supervisor_config
from libs.launcher.ports import free_port, port_is_free
from libs.launcher.scaling import READY_PORTS, ScalingRefused, process_counts, useful_processes
from libs.platform.auth import Role, TokenAuthority, load_signing_keys
from libs.platform.settings import REPO_ROOT, PlatformSettings

#: Short group timeouts: a crashed worker's partitions move within seconds. Production keeps
#: Kafka's defaults (see libs/platform/settings.py).
EMBEDDED_KAFKA = {
    "KAFKA_SESSION_TIMEOUT_S": "6",
    "KAFKA_HEARTBEAT_INTERVAL_S": "1",
    "KAFKA_REBALANCE_TIMEOUT_S": "6",
    "CONSUMER_STUCK_EXIT_S": "90",  # a worker that cannot rejoin: exit, supervisord restarts it
}
DEMO_FACILITY = "QS-T01"
#: What `make run` simulates once every service is ready (SIMULATE=0 skips it; SIMULATE_ARGS
#: replaces these): a whole simulated day compressed into the last two real hours, at a tenth
#: of the seed county's volume, which takes about a minute on two cores.
SIMULATE_ARGS = "--days 1 --window 2h --scale 0.1 --ready-timeout 600"


def demo_tokens(settings: PlatformSettings, ttl: timedelta = timedelta(hours=12)) -> dict[str, str]:
    authority = TokenAuthority(
        load_signing_keys(
            settings.auth_keys, settings.data_dir, production=settings.environment == "production"
        ),
        settings.auth_issuer,
    )
    tokens = {}
    for role in Role:
        facility = DEMO_FACILITY if role is Role.CLINIC_STAFF else None
        label = f"{role.value} ({facility})" if facility else role.value
        tokens[label] = authority.mint(
            subject=f"demo-{role.value}", role=role, facility_id=facility, ttl=ttl
        )
    return tokens


def _ports() -> dict[str, int]:
    return {
        name: int(os.environ.get(f"{name.upper()}_HTTP_PORT", port))
        for name, port in config.SERVICES.items()
    }


def _plan_processes(
    args: argparse.Namespace,
) -> tuple[dict[str, int], dict[str, int], dict[str, int]] | None:
    """Processes per service, each service's port, and each program's port; None (said on
    stderr) when they cannot run: several on SQLite, or a port taken or given twice."""
    try:
        processes = process_counts(args.processes, os.environ)
    except ScalingRefused as refused:
        print(refused, file=sys.stderr)
        return None
    for name, count in processes.items():
        useful = useful_processes(name)
        if 0 < useful < count:
            print(
                f"note: {name} consumes no topic of more than {useful} partitions: "
                f"{count - useful} of its {count} processes get none (they serve HTTP and "
                "stand by)",
                file=sys.stderr,
            )
    ports = _ports()
    programs = program_ports(ports, processes)
    busy = [f"{name} ({port})" for name, port in programs.items() if not port_is_free(port)]
    if busy or len(set(programs.values())) < len(programs):
        what = f"in use: {', '.join(busy)}" if busy else f"given twice: {programs}"
        print(f"admin ports {what}; free them or set e.g. PHARMACY_HTTP_PORT", file=sys.stderr)
        return None
    return processes, ports, programs


def run(args: argparse.Namespace) -> int:
    settings = PlatformSettings()
    data_dir = settings.data_dir.resolve()
    run_dir = data_dir / "supervisor"
    run_dir.mkdir(parents=True, exist_ok=True)
    planned = _plan_processes(args)
    if planned is None:
        return 2
    processes, ports, programs = planned
    broker_port = _broker_port(args)
    if broker_port is None:
        return 2
    simulate = _suite_environment(data_dir, broker_port, ports, programs)
    conf = run_dir / "supervisord.conf"
    conf.write_text(
        supervisor_config(
            run_dir=run_dir,
            repo_root=REPO_ROOT,
            broker_port=broker_port,
            username=os.environ["SUPERVISOR_USERNAME"],
            password=os.environ["SUPERVISOR_PASSWORD"],
            simulate=simulate,
            processes=processes,
            ports=ports,
        )
    )
    conf.chmod(0o600)
    _welcome(settings, data_dir, broker_port, programs, simulate, show_tokens=not args.no_tokens)
    os.chdir(REPO_ROOT)
    # supervisord takes over this process: Ctrl-C reaches it, and it stops every child.
    os.execv(
        sys.executable,
        [
            sys.executable,
            "-c",
            "from supervisor.supervisord import main; main()",
            "-n",
            "-c",
            str(conf),
        ],
    )
    return 0  # not reached


def _broker_port(args: argparse.Namespace) -> int | None:
    """The port asked for (``--broker-port`` or ``EMBEDDED_BROKER_PORT``), else Kafka's usual
    9092 when it is free, else any free one; None (said on stderr) when the one asked for is
    taken, as a silently different port would confuse whoever asked."""
    broker_port = args.broker_port or int(os.environ.get("EMBEDDED_BROKER_PORT", 0) or 0)
    if not broker_port:
        return 9092 if port_is_free(9092) else free_port()
    if not port_is_free(broker_port):
        print(f"broker port {broker_port} is in use", file=sys.stderr)
        return None
    return broker_port


def _suite_environment(
    data_dir: Path, broker_port: int, ports: dict[str, int], programs: dict[str, int]
) -> list[str] | None:
    """Set the environment supervisord passes on to every program (its children inherit
    this process's, as it replaces this process); the simulator's arguments, or None when
    ``SIMULATE`` turns it off. ``programs``: every service process's admin port, which the
    listener waits on before it says the suite is ready."""
    env = os.environ
    env["DATA_DIR"] = str(data_dir)
    env["KAFKA_BOOTSTRAP_SERVERS"] = f"127.0.0.1:{broker_port}"
    for key, value in {**EMBEDDED_KAFKA, **PROCESS_ENV}.items():
        env.setdefault(key, value)
    if sys.stdout.isatty():
        env.setdefault("LOG_FORMAT", "console")
    for name, port in ports.items():
        env[f"{name.upper()}_HTTP_PORT"] = str(port)
    env[READY_PORTS] = ",".join(f"{name}={port}" for name, port in programs.items())
    # supervisorctl-style credentials for the control socket; childutils and `status` read
    # them from these variables.
    env["SUPERVISOR_USERNAME"] = "launcher"
    env["SUPERVISOR_PASSWORD"] = secrets.token_urlsafe(24)
    if env.get("SIMULATE", "1").strip().lower() in ("0", "false", "no", "off"):
        return None
    return shlex.split(env.get("SIMULATE_ARGS") or SIMULATE_ARGS)


def front_page(program: str) -> str:
    """Where a person starts with a program's service (``pharmacy-2`` is pharmacy's)."""
    from libs.platform.service import definitions

    found = definitions().get(program.split("-")[0])
    return found.front_page if found is not None else "/docs"


def introduction(program: str) -> list[str]:
    """What the service says of itself under its address (its first process only)."""
    from libs.platform.service import definitions

    found = definitions().get(program)
    return found.introduction() if found is not None and found.introduction else []


def _welcome(
    settings: PlatformSettings,
    data_dir: Path,
    broker_port: int,
    ports: dict[str, int],
    simulate: list[str] | None,
    *,
    show_tokens: bool,
) -> None:
    """What is where, printed before supervisord takes over the terminal."""
    print("County medical community — embedded suite", flush=True)
    print(f"  broker     127.0.0.1:{broker_port} (Tansu, in memory)")
    print(f"  data       {data_dir}")
    for name, port in ports.items():
        print(f"  {name:<10} http://127.0.0.1:{port}{front_page(name)}")
        for line in introduction(name):
            print(f"             {line}")
    if len(ports) > len(config.SERVICES):
        print(
            "  (several processes of a service share its consumer group and its PostgreSQL "
            "database; one at a time publishes its outbox)"
        )
    if show_tokens:
        print("  tokens (12 h; send as 'Authorization: Bearer <token>'):")
        for label, token in demo_tokens(settings).items():
            print(f"    {label}: {token}")
    if simulate is not None:
        print(
            "  simulator  plays a short simulated period once every service is ready "
            f"({' '.join(simulate)}; SIMULATE=0 skips it);\n"
            "             then: .venv/bin/python -m simulator report --out county-report.html"
        )
    else:
        print("  simulator  off (SIMULATE=0); run: .venv/bin/python -m simulator run --help")
    print("  Ctrl-C stops everything.", flush=True)


def status(_: argparse.Namespace) -> int:
    """Each program's state; 0 when everything is as it should be. ``supervisorctl status``
    exits 3 as soon as any program is not running, which includes the simulator after it
    finished its day normally: a one-shot that exited as expected is fine here."""
    conf = PlatformSettings().data_dir.resolve() / "supervisor" / "supervisord.conf"
    if not conf.exists():
        print("the suite has not been started from this data directory", file=sys.stderr)
        return 1
    options = ClientOptions()
    options.realize(args=["-c", str(conf)])
    try:
        programs = options.getServerProxy().supervisor.getAllProcessInfo()
    except OSError as exc:
        print(f"the suite is not running ({exc})", file=sys.stderr)
        return 1
    healthy = True
    for program in programs:
        finished = program["statename"] == "EXITED" and program["exitstatus"] == 0
        fine = program["statename"] == "RUNNING" or (finished and program["name"] == "simulator")
        healthy = healthy and fine
        print(f"{program['name']:<12} {program['statename']:<9} {program['description']}")
    return 0 if healthy else 3


def tokens(_: argparse.Namespace) -> int:
    for label, token in demo_tokens(PlatformSettings()).items():
        print(f"{label}: {token}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m libs.launcher",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run_cmd = commands.add_parser("run", help="start the broker and all services (foreground)")
    run_cmd.add_argument("--broker-port", type=int, default=0)
    run_cmd.add_argument("--no-tokens", action="store_true", help="do not print demo tokens")
    run_cmd.add_argument(
        "--processes",
        action="append",
        default=[],
        metavar="SERVICE=N",
        help="run SERVICE as N processes in one consumer group (needs its *_DATABASE_URL on "
        "PostgreSQL); repeatable, or comma-separated; <SERVICE>_PROCESSES=N does the same",
    )
    commands.add_parser("status", help="what the running supervisor reports")
    commands.add_parser("tokens", help="print ready-made admin tokens")
    args = parser.parse_args(argv)
    return {"run": run, "status": status, "tokens": tokens}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
