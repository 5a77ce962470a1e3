"""Monitoring against the running suite: a real Prometheus (Debian's package) scrapes all seven
services and reads back a business and a technical metric of each through its query API;
every Grafana panel's query and every alert rule names metrics the services really export.

The services run once for the module (SQLite) and see real traffic first — the seed county,
visits and prescriptions, a referral over HTTP, admin requests — so labelled series exist.
"""

from __future__ import annotations

import importlib.util
import re
import signal
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from kafka import KafkaProducer
from prometheus_client import CollectorRegistry, generate_latest

from libs.events import CloudEvent, encode
from libs.events.catalogue.values import PrescriptionCategory
from libs.events.envelope import utc_now
from libs.events.metrics import DeliveryMetrics
from libs.launcher.config import SERVICES
from libs.platform.auth import Role
from libs.platform.http.metrics import HttpMetricsMiddleware
from tests.conftest import Suite
from tests.support.brokers import TestBroker, credentials_of, topic_on
from tests.support.databases import database_url
from tests.support.kafka import wait_for
from tests.support.prometheus import Prometheus, running_prometheus
from tests.support.promql import SYNTHETIC, dashboard_queries, exported_names, metric_names
from tests.support.referral import PATIENT_DATA_KEYS, PSEUDONYM_SECRET, chest_pain, resident_id
from tests.support.reporting import SEED_FACILITIES, prescription, visit

ROOT = Path(__file__).resolve().parents[2]
DASHBOARDS = sorted((ROOT / "infra" / "grafana" / "dashboards").glob("*.json"))
ENV = {"PSEUDONYM_SECRET": PSEUDONYM_SECRET, "REFERRAL_PATIENT_DATA_KEYS": PATIENT_DATA_KEYS}


def backbone_suffixes() -> set[str]:
    """What every service exports for the backbone (delivery and HTTP), without its prefix:
    everything else a service exports is its business."""
    registry = CollectorRegistry()
    DeliveryMetrics.create("svc", registry)
    HttpMetricsMiddleware(None, namespace="svc", registry=registry)  # type: ignore[arg-type]
    return {
        name.removeprefix("svc_") for name in exported_names(generate_latest(registry).decode())
    }


@dataclass
class Monitored:
    suite: Suite
    prometheus: Prometheus
    exports: dict[str, str]  # service → its /metrics text after the traffic

    def names(self, service: str | None = None) -> set[str]:
        texts = [self.exports[service]] if service else list(self.exports.values())
        return set().union(*(exported_names(t) for t in texts))


def publish(bootstrap: str, events: list[CloudEvent[Any]]) -> None:
    producer = KafkaProducer(
        bootstrap_servers=bootstrap, acks="all", **credentials_of(bootstrap).client_options()
    )
    try:
        for e in events:
            producer.send(topic_on(bootstrap, e.topic), key=e.key.encode(), value=encode(e))
        producer.flush(timeout=30)
    finally:
        producer.close(timeout=5)


def traffic(suite: Suite) -> None:
    """What a morning in the county looks like, in miniature."""
    handles = suite.started
    for name in ("pharmacy", "finance", "referral", "reporting"):
        wait_for(
            lambda n=name: len(handles[n].get_json("/directory/facilities")) == SEED_FACILITIES,
            what=f"{name}'s copy of the seed county",
        )
    now = utc_now()
    publish(
        suite.bootstrap,
        [
            visit("QS-T01", now),
            visit("QS-H01", now),
            prescription("QS-T01", PrescriptionCategory.TCM_PATENT, now),
            prescription("QS-T01", PrescriptionCategory.WESTERN, now),
        ],
    )
    with handles["referral"].client(Role.CLINIC_STAFF, "QS-T01") as clinic:
        body = chest_pain("赵明", resident_id(), to_department_id="QS-H01-EMER")
        created = clinic.post("/referrals", json=body)
        assert created.status_code == 201, created.text
    for handle in handles.values():
        with handle.client() as client:
            client.get("/healthz")
            client.get("/docs")
    wait_for(
        lambda: (
            handles["reporting"].metric(
                "reporting_events_consumed_total",
                topic="ingestion.prescription",
                type="ingestion.prescription.issued.v1",
                outcome="applied",
            )
            == 2
        ),
        what="reporting applied the prescriptions",
    )
    wait_for(
        lambda: "referral_referrals{" in handles["referral"].metrics(),
        what="the referral counted",
    )


def stop_together(suite: Suite) -> None:
    """SIGTERM every service at once, then wait for each (one by one takes 2 s each)."""
    for handle in suite.started.values():
        if handle.process.poll() is None:
            handle.process.send_signal(signal.SIGTERM)
    suite.stop_all()


@pytest.fixture(scope="module")
def monitored(
    module_broker: TestBroker, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Monitored]:
    directory = tmp_path_factory.mktemp("monitoring")
    with ExitStack() as stack:
        suite = Suite(
            module_broker.bootstrap_servers,
            lambda name: stack.enter_context(database_url("sqlite", directory, name)),
            directory / "data",
        )
        stack.callback(stop_together, suite)
        suite.start(*SERVICES, env=ENV)
        traffic(suite)
        exports = {name: handle.metrics() for name, handle in suite.started.items()}
        targets = {name: f"127.0.0.1:{h.port}" for name, h in suite.started.items()}
        prometheus = stack.enter_context(running_prometheus(targets, directory / "prometheus"))
        wait_for(
            lambda: {r["metric"]["job"] for r in prometheus.query("up == 1")} == set(SERVICES),
            what="Prometheus scraping every service",
            timeout_s=30,
        )
        yield Monitored(suite, prometheus, exports)


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_prometheus_reads_a_technical_metric_of_every_service(
    monitored: Monitored, service: str
) -> None:
    for metric in (f"{service}_outbox_pending", f"{service}_http_requests_total"):
        result = monitored.prometheus.query(f'{metric}{{job="{service}"}}')
        assert result, f"Prometheus has no {metric} from {service}"


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_prometheus_reads_a_business_metric_of_every_service(
    monitored: Monitored, service: str
) -> None:
    if service == "staffing" and importlib.util.find_spec("services.staffing.metrics") is None:
        pytest.skip(
            "staffing exports no business metric in this tree: its workforce metrics come "
            "with issue 5 (services/staffing/metrics.py)"
        )
    backbone = {f"{service}_{suffix}" for suffix in backbone_suffixes()}
    business = sorted(
        name
        for name in monitored.names(service)
        if name.startswith(f"{service}_") and name not in backbone and not name.endswith("_created")
    )
    assert business, f"{service} exports no business metric"

    def seen() -> list[str]:  # a scrape that timed out under load leaves them stale a while
        query = monitored.prometheus.query
        return [name for name in business if query(f'{name}{{job="{service}"}}')]

    assert wait_for(seen, timeout_s=45, what=f"Prometheus to hold {service}'s business metrics")
    if service == "reporting":
        tcm = monitored.prometheus.query(
            'reporting_indicator_value{indicator="tcm_prescription_share",'
            'level="facility",unit="QS-T01",period="day"}'
        )
        assert [float(r["value"][1]) for r in tcm] == [50.0]


def unexported(expr: str, exported: set[str]) -> list[str]:
    found = metric_names(expr)
    missing = sorted(n for n in found.names if n not in exported and n not in SYNTHETIC)
    missing += [
        f"~{regex}"
        for regex in found.regexes
        if not any(re.fullmatch(regex, name) for name in exported)
    ]
    if not found.names and not found.regexes and "(" not in expr:
        missing.append(f"(no metric in {expr!r})")
    return missing


def test_every_grafana_panel_queries_metrics_the_services_export(monitored: Monitored) -> None:
    exported = monitored.names()
    problems = []
    checked = 0
    for path in DASHBOARDS:
        for query in dashboard_queries(path):
            checked += 1
            for name in unexported(query.expr, exported):
                problems.append(f"{query.dashboard} / {query.panel} {query.variables}: {name}")
    assert checked > 60
    assert not problems, "\n".join(problems)


def test_every_alert_rule_names_metrics_the_services_export(monitored: Monitored) -> None:
    exported = monitored.names()
    rules = yaml.safe_load((ROOT / "infra" / "prometheus" / "alerts.yml").read_text())
    problems = [
        f"{rule['alert']}: {name}"
        for group in rules["groups"]
        for rule in group["rules"]
        for name in unexported(rule["expr"], exported)
    ]
    assert not problems, "\n".join(problems)
    # Prometheus evaluates each of them without error against the live series.
    for group in rules["groups"]:
        for rule in group["rules"]:
            response = httpx.get(
                f"{monitored.prometheus.url}/api/v1/query", params={"query": rule["expr"]}
            )
            assert response.status_code == 200, (rule["alert"], response.text)


JOINING = {
    "facility_id": "QS-T12",
    "name": "白石镇卫生院",
    "community_id": "QS-MC2",
    "tier": "primary",
    "facility_type": "township_centre",
}


def test_a_facility_registered_through_administration_reaches_every_service(
    monitored: Monitored,
) -> None:
    """Every service of the suite runs here: the new member reaches each one's copy (the
    gateway's and the others' directory, staffing's own tables through its timetable page)."""
    handles = monitored.suite.started
    with handles["administration"].client(Role.COUNTY_ADMIN) as admin:
        created = admin.post("/organisation/facilities", json=JOINING)
        assert created.status_code == 201, created.text
    copies = [name for name in handles if name not in ("administration", "staffing")]
    for name in copies:
        wait_for(
            lambda n=name: any(
                f["facility_id"] == "QS-T12" for f in handles[n].get_json("/directory/facilities")
            ),
            what=f"{name}'s copy of the new member",
        )
    staffing = handles["staffing"]
    wait_for(
        lambda: JOINING["name"] in httpx.get(f"{staffing.url}/public/timetable").text,
        what="staffing's copy of the new member",
    )
