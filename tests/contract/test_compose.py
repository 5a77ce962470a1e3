"""The compose cluster, checked without Docker: valid against the Compose specification's JSON
schema, and everything it names exists in the code and in infra/."""

from __future__ import annotations

import importlib
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft201909Validator

from libs.events.outbox.staging import MAX_RECORD_BYTES
from libs.events.topics import load_declarations
from libs.launcher.config import SERVICES
from libs.platform.settings import PlatformSettings
from tests.support.kafka_cluster import KafkaNode, node_properties
from tests.support.kafka_setup import IMAGE_VARIABLES, TOPOLOGY, kafka_version, property_name

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
SERVICES_IN_COMPOSE: dict[str, dict[str, Any]] = COMPOSE["services"]
APP_IMAGE = "county-medical-community:0.1.0"
INTERPOLATION = re.compile(r"\$\{([A-Z0-9_]+)(?::?[-?][^}]*)?\}")


def compose_schema(tmp_dir: Path) -> dict[str, Any]:
    """The Compose specification's schema, as shipped in the docker-compose 1.29.2 wheel
    (`make test` downloads it into .venv/downloads; fetched here otherwise)."""
    wheels = sorted((ROOT / ".venv" / "downloads").glob("docker_compose-1.29.2-*.whl"))
    if not wheels:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "-q",
                "--no-deps",
                "-d",
                str(tmp_dir),
                "docker-compose==1.29.2",
            ],
            check=True,
        )
        wheels = sorted(tmp_dir.glob("docker_compose-1.29.2-*.whl"))
    with zipfile.ZipFile(wheels[0]) as wheel:
        schema: dict[str, Any] = json.loads(wheel.read("compose/config/compose_spec.json"))
    return schema


def test_the_compose_file_is_valid_against_the_compose_specification(tmp_path: Path) -> None:
    schema = compose_schema(tmp_path)
    errors = sorted(Draft201909Validator(schema).iter_errors(COMPOSE), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


def app_services() -> dict[str, dict[str, Any]]:
    return {n: s for n, s in SERVICES_IN_COMPOSE.items() if s.get("image") == APP_IMAGE}


def test_every_image_is_pinned_to_a_version() -> None:
    for name, service in SERVICES_IN_COMPOSE.items():
        image = service["image"]
        assert re.fullmatch(r"[\w./-]+:v?\d+\.\d+(\.\d+)?[\w.-]*", image), (name, image)
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if line.startswith("FROM "):
            image = line.split()[1]
            assert re.fullmatch(r"[\w./-]+:\d+\.\d+\.\d+[\w.-]*", image), line


def kafka_brokers() -> dict[str, dict[str, Any]]:
    return {n: s for n, s in SERVICES_IN_COMPOSE.items() if n.startswith("kafka-")}


def broker_environment(broker: dict[str, Any]) -> dict[str, str]:
    """A broker's environment as compose builds it: its env files, then ``environment``."""
    env: dict[str, str] = {}
    for name in broker.get("env_file", []):
        for line in (ROOT / name).read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                key, _, value = line.partition("=")
                env[key] = value
    return {**env, **{k: str(v) for k, v in broker.get("environment", {}).items()}}


def test_the_cluster_has_three_kraft_brokers_with_replication_3_and_min_isr_2() -> None:
    brokers = kafka_brokers()
    assert len(brokers) == 3
    voters = set()
    for name, broker in brokers.items():
        env = broker_environment(broker)
        assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
        assert env["KAFKA_DEFAULT_REPLICATION_FACTOR"] == "3"
        assert env["KAFKA_MIN_INSYNC_REPLICAS"] == "2"
        assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
        assert f"BROKER://{name}:9092" in env["KAFKA_ADVERTISED_LISTENERS"]
        voters.add(f"{env['KAFKA_NODE_ID']}@{name}:9093")
        assert broker["image"].startswith("apache/kafka:")
        major, minor = map(int, broker["image"].split(":")[1].split(".")[:2])
        assert (major, minor) >= (3, 9)
    for broker in brokers.values():
        quorum = broker_environment(broker)["KAFKA_CONTROLLER_QUORUM_VOTERS"]
        assert set(quorum.split(",")) == voters
    # The topic declarations ask for what the cluster can hold.
    for decl in load_declarations():
        assert decl.replication_factor == 3
    access_init = SERVICES_IN_COMPOSE["access-init"]
    assert access_init["command"] == ["libs.events.access", "apply"]
    assert set(access_init["depends_on"]) == set(brokers)
    assert all(c["condition"] == "service_healthy" for c in access_init["depends_on"].values())
    topic_init = SERVICES_IN_COMPOSE["topic-init"]
    assert topic_init["command"] == ["libs.events.topics", "create"]
    assert topic_init["depends_on"] == {
        "access-init": {"condition": "service_completed_successfully"}
    }


def test_every_service_can_be_scaled_out() -> None:
    """`docker compose up --scale pharmacy=N`: nothing names a single container (no
    container_name, hostname or fixed host port), each replica gets a host port of its
    service's range (wide enough for a process per partition of its busiest topic), shares
    the service's PostgreSQL database (where the relay's lease elects one publisher), and
    keeps no state of its own in a volume."""
    from libs.launcher.scaling import useful_processes

    ranges = []
    for service, port in SERVICES.items():
        spec = SERVICES_IN_COMPOSE[service]
        assert not {"container_name", "hostname", "volumes"} & set(spec), service
        assert spec.get("deploy", {}).get("replicas", 1) == 1, service  # scaled by --scale
        [published] = spec["ports"]
        match = re.fullmatch(r"(\d+)-(\d+):(\d+)", str(published))
        assert match, (service, published)
        first, last, inside = map(int, match.groups())
        assert inside == port, (service, published)
        assert last - first + 1 >= max(useful_processes(service), 3), (service, published)
        ranges.append(range(first, last + 1))
        url = spec["environment"][f"{service.upper()}_DATABASE_URL"]
        assert url.startswith("postgresql+psycopg://"), service
    for a, b in ((a, b) for a in ranges for b in ranges if a is not b):
        assert not set(a) & set(b), (a, b)  # replicas of two services never collide
    assert "--scale pharmacy=" in (ROOT / "docker-compose.yml").read_text()


def test_every_client_authenticates_as_its_own_principal() -> None:
    """Services log in as themselves (SCRAM), the init jobs as the operator; the operator
    creates every principal the catalogue implies, each password from .env."""
    from libs.events.access import password_variable, principals

    for service in SERVICES:
        env = SERVICES_IN_COMPOSE[service]["environment"]
        assert env["KAFKA_SECURITY_PROTOCOL"] == "SASL_PLAINTEXT"
        assert env["KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512"
        assert env["KAFKA_SASL_USERNAME"] == service
        assert env["KAFKA_SASL_PASSWORD"] == "${" + password_variable(service) + "}"
    operator = SERVICES_IN_COMPOSE["access-init"]["environment"]
    assert operator["KAFKA_SASL_USERNAME"] == "admin"
    assert operator["KAFKA_SASL_MECHANISM"] == "PLAIN"
    for principal in principals():
        assert operator[password_variable(principal)].startswith(
            "${" + password_variable(principal) + ":?"
        )
        assert f"{password_variable(principal)}=" in (ROOT / ".env.example").read_text()
    assert SERVICES_IN_COMPOSE["topic-init"]["environment"] == operator


def test_every_service_of_the_suite_runs_after_its_topics_and_migrations() -> None:
    for service, port in SERVICES.items():
        spec = SERVICES_IN_COMPOSE[service]
        assert spec["command"] == [f"services.{service}"]
        importlib.import_module(f"services.{service}.__main__".removesuffix(".__main__"))
        assert spec["depends_on"] == {
            "topic-init": {"condition": "service_completed_successfully"},
            f"migrate-{service}": {"condition": "service_completed_successfully"},
        }
        migrate = SERVICES_IN_COMPOSE[f"migrate-{service}"]
        assert migrate["command"] == ["libs.platform.migrations", "upgrade", "--service", service]
        importlib.import_module(f"services.{service}.adapters.schema")  # its migration plan
        assert migrate["depends_on"] == {"postgres": {"condition": "service_healthy"}}
        # The port it listens on, is checked on and is published from agree with the code.
        env = spec["environment"]
        assert env[f"{service.upper()}_HTTP_PORT"] == str(port)
        assert f"127.0.0.1:{port}/readyz" in " ".join(spec["healthcheck"]["test"])
        assert any(str(p).endswith(f":{port}") for p in spec["ports"])
        settings = importlib.import_module(f"services.{service}.settings").Settings
        assert settings.model_fields["http_port"].default == port
        # One database per service, created by the PostgreSQL init script.
        assert env[f"{service.upper()}_DATABASE_URL"].endswith(f"@postgres:5432/{service}")
    init = (ROOT / "infra/postgres/initdb/01-service-databases.sh").read_text()
    for service in SERVICES:
        assert f"CREATE DATABASE {service} OWNER medcommunity;" in init
    assert set(app_services()) == {
        *SERVICES,
        *(f"migrate-{s}" for s in SERVICES),
        "access-init",
        "topic-init",
    }


def known_variables(service: str | None) -> set[str]:
    from libs.events.access import password_variable, principals

    names = {name.upper() for name in PlatformSettings.model_fields}
    names |= {password_variable(p) for p in principals()}  # read by `access apply`
    services = [service] if service else list(SERVICES)
    for name in services:
        settings = importlib.import_module(f"services.{name}.settings").Settings
        names |= {f"{name.upper()}_{field.upper()}" for field in settings.model_fields}
    return names


def test_every_variable_given_to_our_image_is_a_setting_the_code_reads() -> None:
    for name, spec in app_services().items():
        service = (
            name.removeprefix("migrate-")
            if name in SERVICES or name.startswith("migrate-")
            else None
        )
        unknown = set(spec.get("environment", {})) - known_variables(service)
        assert not unknown, f"{name} sets variables no code reads: {sorted(unknown)}"


def test_every_interpolated_variable_is_documented_in_env_example() -> None:
    text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    used = set(INTERPOLATION.findall(text))
    documented = {
        line.split("=", 1)[0]
        for line in (ROOT / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    }
    assert used == documented, (used - documented, documented - used)
    # Secrets are required (`:?`), never defaulted.
    for secret in (
        "AUTH_KEYS",
        "PSEUDONYM_SECRET",
        "POSTGRES_PASSWORD",
        "APP_DB_PASSWORD",
        "GRAFANA_ADMIN_PASSWORD",
        "KAFKA_CLUSTER_ID",
        "REFERRAL_PATIENT_DATA_KEYS",
        "KAFKA_ADMIN_PASSWORD",
        "HIS_KAFKA_PASSWORD",
        *(f"{service.upper()}_KAFKA_PASSWORD" for service in SERVICES),
    ):
        assert re.search(rf"\$\{{{secret}:\?", text), secret
    assert SERVICES_IN_COMPOSE["pharmacy"]["environment"]["ENVIRONMENT"] == "production"


def test_mounted_and_provisioned_files_exist_and_name_real_things() -> None:
    for name, spec in SERVICES_IN_COMPOSE.items():
        for volume in spec.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), (name, source)
    prometheus = yaml.safe_load((ROOT / "infra/prometheus/prometheus.yml").read_text())
    scraped = {
        job["job_name"]: job["dns_sd_configs"][0]
        for job in prometheus["scrape_configs"]
        if "dns_sd_configs" in job
    }
    assert set(scraped) == set(SERVICES)
    for service, port in SERVICES.items():
        assert scraped[service]["names"] == [service]
        assert scraped[service]["port"] == port


def test_the_dockerfile_builds_only_from_files_in_the_repository() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert "ADD " not in text
    assert "curl" not in text
    assert "wget" not in text
    for line in text.splitlines():
        if line.startswith("COPY") and "--from=" not in line:
            *sources, _destination = line.split()[1:]
            for source in sources:
                assert (ROOT / source).exists(), source
    assert "USER app" in text  # non-root
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert ignored[1 if ignored[0].startswith("#") else 0] == "*"  # only what is let in


def test_the_image_starts_services_as_the_launcher_does() -> None:
    """The process environment the launcher and the tests give every service (two malloc
    arenas: the memory figures of docs/performance.md) is the image's too."""
    from libs.launcher.config import PROCESS_ENV

    text = (ROOT / "Dockerfile").read_text()
    for key, value in PROCESS_ENV.items():
        assert re.search(rf"\b{key}={value}\b", text), key


@pytest.mark.parametrize("dashboard", sorted((ROOT / "infra/grafana/dashboards").glob("*.json")))
def test_dashboards_are_valid_json_with_panels(dashboard: Path) -> None:
    data = json.loads(dashboard.read_text())
    assert data["uid"]
    assert data["panels"]


def test_the_tests_run_the_brokers_of_the_compose_cluster() -> None:
    """The tests' cluster (tests/support/kafka_cluster.py) is the compose cluster on loopback:
    the same Kafka version, and every broker setting the same but where each node is."""
    for name, broker in kafka_brokers().items():
        assert broker["image"] == f"apache/kafka:{kafka_version()}", name
        compose = {
            property_name(k): v
            for k, v in broker_environment(broker).items()
            if k.startswith("KAFKA_") and k not in IMAGE_VARIABLES
        }
        node = KafkaNode(1, 19092, 19093, Path("/nowhere"))
        tests = node_properties(node, "1@127.0.0.1:19093", "secret")
        # Where a node is, and the operator's password (each cluster has its own).
        where = set(TOPOLOGY) | {k for k in tests if k.endswith("plain.sasl.jaas.config")}
        assert {k: v for k, v in compose.items() if k not in where} == {
            k: v for k, v in tests.items() if k not in where
        }, name
        assert where <= set(tests)


def test_the_outbox_never_stages_a_record_the_brokers_or_producers_would_refuse() -> None:
    """A record over either limit is refused on every attempt and holds back every later
    event of its service: the outbox's own limit must sit below both."""
    from kafka import KafkaProducer

    node = KafkaNode(1, 19092, 19093, Path("/nowhere"))
    broker_limit = int(node_properties(node, "1@127.0.0.1:19093", "s")["message.max.bytes"])
    producer_limit = KafkaProducer.DEFAULT_CONFIG["max_request_size"]
    assert min(broker_limit, producer_limit) > MAX_RECORD_BYTES
