"""The launcher's supervisord configuration: the control socket must fit a Unix address, and
a service run as several processes gets a program and an admin port for each (read back
through supervisord's own parser)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from supervisor.options import ServerOptions

from libs.launcher.config import (
    PORT_STRIDE,
    SERVICES,
    control_socket,
    program_ports,
    supervisor_config,
)


def test_a_short_data_directory_keeps_its_socket_inside() -> None:
    run_dir = Path("/srv/county/.data/supervisor")
    assert control_socket(run_dir) == run_dir / "supervisor.sock"


def test_a_deep_data_directory_gets_a_short_socket_of_its_own() -> None:
    deep = Path("/tmp") / ("nested-" * 20) / "supervisor"
    other = Path("/tmp") / ("nested-" * 21) / "supervisor"
    socket = control_socket(deep)
    assert len(str(socket)) <= 100
    assert socket != control_socket(other)  # two suites never share a socket
    conf = supervisor_config(
        run_dir=deep, repo_root=Path("/repo"), broker_port=9092, username="u", password="p"
    )
    assert f"file={socket}" in conf and f"serverurl=unix://{socket}" in conf


def _programs(tmp_path: Path, **kwargs: Any) -> dict[str, tuple[str, str, dict[str, str]]]:
    """The generated configuration as supervisord itself reads it: program → (group, command,
    environment)."""
    conf = tmp_path / "supervisord.conf"
    conf.write_text(
        supervisor_config(
            run_dir=tmp_path,
            repo_root=Path("/repo"),
            broker_port=9092,
            username="u",
            password="p",
            **kwargs,
        )
    )
    options = ServerOptions()
    options.realize(args=["-c", str(conf)])
    return {
        process.name: (group.name, process.command, dict(process.environment or {}))
        for group in options.process_group_configs
        for process in group.process_configs
    }


def test_by_default_each_service_is_one_program_on_the_port_the_environment_gives(
    tmp_path: Path,
) -> None:
    programs = _programs(tmp_path)
    services = {n: p for n, p in programs.items() if p[0] == "services"}
    assert set(services) == set(SERVICES)
    for name, (_, command, environment) in services.items():
        assert command.endswith(f"-m libs.platform.run {name}")
        assert environment == {}  # the launcher's own environment names the port


def test_a_service_run_as_several_processes_gets_a_program_and_a_port_for_each(
    tmp_path: Path,
) -> None:
    programs = _programs(tmp_path, processes={"pharmacy": 3, "finance": 1})
    services = {n: p for n, p in programs.items() if p[0] == "services"}
    assert set(services) == {"pharmacy-1", "pharmacy-2", "pharmacy-3", *SERVICES} - {"pharmacy"}
    ports = [services[f"pharmacy-{i}"][2]["PHARMACY_HTTP_PORT"] for i in (1, 2, 3)]
    assert ports == ["8101", "8201", "8301"]
    for i in (1, 2, 3):
        assert services[f"pharmacy-{i}"][1].endswith("-m libs.platform.run pharmacy")
    assert services["finance"][2] == {}
    # Every process's port is distinct from every other service's.
    everything = program_ports(SERVICES, {"pharmacy": 3, "referral": 2})
    assert len(set(everything.values())) == len(everything)


def test_several_processes_start_from_the_port_the_environment_gives(tmp_path: Path) -> None:
    programs = _programs(tmp_path, processes={"reporting": 2}, ports={"reporting": 9105})
    assert programs["reporting-1"][2] == {"REPORTING_HTTP_PORT": "9105"}
    assert programs["reporting-2"][2] == {"REPORTING_HTTP_PORT": str(9105 + PORT_STRIDE)}


@pytest.mark.parametrize("processes", [{"pharmacy": 0}, {"dispensary": 2}])
def test_nonsense_process_counts_are_refused(tmp_path: Path, processes: dict[str, int]) -> None:
    with pytest.raises(ValueError, match="processes"):
        supervisor_config(
            run_dir=tmp_path,
            repo_root=Path("/repo"),
            broker_port=9092,
            username="u",
            password="p",
            processes=processes,
        )
