"""``python -m libs.launcher run --processes pharmacy=2`` (or ``PHARMACY_PROCESSES=2``): how
many processes of each service, refused on a database they cannot share (SQLite)."""

from __future__ import annotations

from pathlib import Path

import pytest

from libs.launcher.__main__ import main
from libs.launcher.scaling import (
    ScalingRefused,
    parse_ready_ports,
    process_counts,
    useful_processes,
)

POSTGRES = "postgresql+psycopg://county@db.example/pharmacy"


def test_services_not_named_run_as_one_process() -> None:
    assert process_counts([], {}) == {}


def test_the_environment_and_the_option_name_counts_and_the_option_wins() -> None:
    environ = {
        "PHARMACY_PROCESSES": "3",
        "PHARMACY_DATABASE_URL": POSTGRES,
        "FINANCE_DATABASE_URL": "postgresql+psycopg://county@db.example/finance",
    }
    assert process_counts([], environ) == {"pharmacy": 3}
    assert process_counts(["pharmacy=2,finance=2", "staffing=1"], environ) == {
        "pharmacy": 2,
        "finance": 2,
        "staffing": 1,
    }


@pytest.mark.parametrize("url", ["", "sqlite:////srv/county/.data/pharmacy.sqlite3"])
def test_several_processes_on_sqlite_are_refused_naming_the_fix(url: str) -> None:
    with pytest.raises(ScalingRefused) as refused:
        process_counts(["pharmacy=2"], {"PHARMACY_DATABASE_URL": url} if url else {})
    message = str(refused.value)
    assert "PHARMACY_DATABASE_URL" in message and "PostgreSQL" in message
    assert "postgresql+psycopg://" in message  # what to set it to


def test_one_process_on_sqlite_is_fine() -> None:
    assert process_counts(["pharmacy=1"], {}) == {"pharmacy": 1}


@pytest.mark.parametrize(
    ("requested", "environ"),
    [
        (["pharmacy"], {}),
        (["pharmacy=0"], {}),
        (["pharmacy=two"], {}),
        (["dispensary=2"], {}),
        ([], {"PHARMACY_PROCESSES": "-1"}),
    ],
)
def test_nonsense_is_refused(requested: list[str], environ: dict[str, str]) -> None:
    with pytest.raises(ScalingRefused):
        process_counts(requested, {**environ, "PHARMACY_DATABASE_URL": POSTGRES})


def test_pharmacy_has_work_for_six_processes() -> None:
    """ingestion.prescription has 6 partitions (infra/kafka/topics.yaml)."""
    assert useful_processes("pharmacy") == 6
    assert useful_processes("referral") == 3  # staffing.timetable
    assert useful_processes("staffing") == 1  # the organisation topics: one partition each


def test_the_listener_reads_back_every_process_port() -> None:
    assert parse_ready_ports("pharmacy-1=8101,pharmacy-2=8201,finance=8102") == {
        "pharmacy-1": 8101,
        "pharmacy-2": 8201,
        "finance": 8102,
    }
    assert parse_ready_ports("") == {}


def test_run_refuses_before_starting_anything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.delenv("PHARMACY_DATABASE_URL", raising=False)
    monkeypatch.delenv("PHARMACY_PROCESSES", raising=False)
    assert main(["run", "--processes", "pharmacy=2", "--no-tokens"]) == 2
    assert "PHARMACY_DATABASE_URL" in capsys.readouterr().err
    assert not (tmp_path / "supervisor" / "supervisord.conf").exists()
