"""The monitoring configuration as Prometheus and Grafana read it: `promtool check config`,
`promtool check rules`, the alert rules' own unit tests (`promtool test rules`), and the
dashboards' shape. Whether each query names a metric the services export is checked against
running services in tests/e2e/test_monitoring.py."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.support.prometheus import require

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = ROOT / "infra" / "prometheus"
DASHBOARDS = sorted((ROOT / "infra" / "grafana" / "dashboards").glob("*.json"))


def promtool(*args: str, cwd: Path = PROMETHEUS) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [require("promtool"), *args], cwd=cwd, capture_output=True, text=True, check=False
    )


def test_promtool_accepts_the_scrape_configuration(tmp_path: Path) -> None:
    config = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())
    # In the cluster the rules are mounted at /etc/prometheus; here they are in the repository.
    config["rule_files"] = [str(PROMETHEUS / Path(p).name) for p in config["rule_files"]]
    copy = tmp_path / "prometheus.yml"
    copy.write_text(yaml.safe_dump(config))
    done = promtool("check", "config", str(copy))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def test_promtool_accepts_the_alert_rules_and_their_tests_pass() -> None:
    checked = promtool("check", "rules", "alerts.yml")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = promtool("test", "rules", "tests/alerts_test.yml")
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_the_alert_rules_cover_platform_and_business() -> None:
    rules = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())
    names = {r["alert"] for group in rules["groups"] for r in group["rules"]}
    assert names >= {
        "ServiceDown",
        "OutboxBacklog",
        "DeadLettersAppearing",
        "ForgedOrConflictingEvents",
        "ConsumerLagGrowing",
        "BudgetRunningAhead",
        "StockOuts",
        "ReferralSlaBreaches",
    }


def test_there_is_a_county_overview_a_dashboard_per_domain_and_the_platform() -> None:
    assert {d.stem for d in DASHBOARDS} >= {
        "county",
        "pharmacy",
        "finance",
        "staffing",
        "referral",
        "quality",
        "gateway",
        "platform",
    }


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.stem)
def test_every_panel_queries_the_provisioned_datasource(path: Path) -> None:
    datasources = yaml.safe_load(
        (ROOT / "infra/grafana/provisioning/datasources/prometheus.yml").read_text()
    )
    uid = datasources["datasources"][0]["uid"]
    board = json.loads(path.read_text())
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids))
    for panel in board["panels"]:
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == {"type": "prometheus", "uid": uid}, panel["title"]
        assert panel["targets"] and all(t["expr"] for t in panel["targets"]), panel["title"]
