"""The worker's watchdog: consumers unready for too long make the process exit (for its
supervisor to restart it); ready consumers reset the clock."""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

import pytest

from libs.platform import worker
from libs.platform.worker import STUCK_EXIT_CODE, ServiceProcess


class Exited(Exception):
    pass


def watched(ready: list[bool], stuck_after_s: float) -> Any:
    def check() -> None:
        if not ready[0]:
            raise RuntimeError("partitions not assigned")

    return SimpleNamespace(
        _check_consumers=check,
        _consumers_unready_since=None,
        platform=SimpleNamespace(consumer_stuck_exit_s=stuck_after_s),
    )


@pytest.fixture(autouse=True)
def no_real_exit(monkeypatch: pytest.MonkeyPatch) -> None:
    def exit_(code: int) -> None:
        raise Exited(code)

    monkeypatch.setattr(worker.os, "_exit", exit_)


def test_consumers_unready_beyond_the_limit_exit_with_the_stuck_code() -> None:
    process = watched([False], stuck_after_s=0.05)
    ServiceProcess._watch_consumers(process)  # starts the clock
    time.sleep(0.1)
    with pytest.raises(Exited) as exited:
        ServiceProcess._watch_consumers(process)
    assert exited.value.args == (STUCK_EXIT_CODE,)


def test_becoming_ready_resets_the_clock() -> None:
    ready = [False]
    process = watched(ready, stuck_after_s=0.05)
    ServiceProcess._watch_consumers(process)
    ready[0] = True
    ServiceProcess._watch_consumers(process)
    assert process._consumers_unready_since is None
    ready[0] = False
    time.sleep(0.1)
    ServiceProcess._watch_consumers(process)  # unready again: a new clock, no exit yet
