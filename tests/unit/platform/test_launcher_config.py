"""The launcher's supervisord configuration: the control socket must fit a Unix address."""

from __future__ import annotations

from pathlib import Path

from libs.launcher.config import control_socket, supervisor_config


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
