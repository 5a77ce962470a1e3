"""Where the tests' Apache Kafka comes from and how it is configured, in one place with the
compose cluster:

- the jars: ``infra/kafka/pom.xml`` names ``org.apache.kafka:kafka_2.13`` at the version
  docker-compose.yml pins; Maven copies it and its runtime dependencies once into
  ``<cache>/kafka-<version>/`` (outside the work tree: ``TEST_CACHE_DIR``, else
  ``$XDG_CACHE_HOME/county-medical-community``, else ``~/.cache/county-medical-community``),
  so a second run downloads nothing;
- the settings: ``infra/kafka/broker.env``, the file the compose cluster's brokers read,
  converted to server.properties names as the apache/kafka image converts its environment.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

__all__ = [
    "BROKER_ENV",
    "IMAGE_VARIABLES",
    "TOPOLOGY",
    "broker_jars",
    "kafka_version",
    "property_name",
    "shared_broker_settings",
]

REPO_ROOT = Path(__file__).resolve().parents[2]
KAFKA_INFRA = REPO_ROOT / "infra" / "kafka"
POM = KAFKA_INFRA / "pom.xml"
BROKER_ENV = KAFKA_INFRA / "broker.env"

#: The settings a node's place decides; everything else comes from ``broker.env``.
TOPOLOGY = frozenset(
    {"node.id", "listeners", "advertised.listeners", "controller.quorum.voters", "log.dirs"}
)
#: The apache/kafka image reads these ``KAFKA_*`` variables itself; they are not settings.
IMAGE_VARIABLES = frozenset(
    {
        "KAFKA_HEAP_OPTS",
        "KAFKA_OPTS",
        "KAFKA_JVM_PERFORMANCE_OPTS",
        "KAFKA_GC_LOG_OPTS",
        "KAFKA_LOG4J_OPTS",
        "KAFKA_JMX_OPTS",
        "KAFKA_VERSION",
    }
)


def kafka_version() -> str:
    """The Kafka version ``infra/kafka/pom.xml`` asks for."""
    match = re.search(r"<kafka\.version>([^<]+)</kafka\.version>", POM.read_text())
    assert match, f"{POM} names no kafka.version"
    return match.group(1).strip()


def cache_root() -> Path:
    if os.environ.get("TEST_CACHE_DIR"):
        return Path(os.environ["TEST_CACHE_DIR"])
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "county-medical-community"


def broker_jars(version: str | None = None) -> Path:
    """The directory of Kafka's jars, copied from Maven Central on first use only."""
    version = version or kafka_version()
    target = cache_root() / f"kafka-{version}"
    complete = target / ".complete"
    if complete.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with (target.parent / f".kafka-{version}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another test run may be copying the same jars
        if complete.exists():
            return target
        staging = Path(tempfile.mkdtemp(prefix=f".kafka-{version}-", dir=target.parent))
        mvn = shutil.which("mvn")
        if mvn is None:
            raise RuntimeError("Maven (mvn) is needed once to fetch Kafka's jars")
        result = subprocess.run(
            [
                mvn, "-q", "-B", "-f", str(POM), f"-Dkafka.version={version}",
                "dependency:copy-dependencies", f"-DoutputDirectory={staging}",
            ],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if result.returncode != 0 or not any(staging.glob("kafka_2.13-*.jar")):
            shutil.rmtree(staging, ignore_errors=True)
            raise RuntimeError(f"mvn could not copy Kafka {version}:\n{result.stdout[-3000:]}")
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
        complete.write_text(version + "\n")
    return target


def property_name(variable: str) -> str:
    """``KAFKA_FOO_BAR`` → ``foo.bar``, as the apache/kafka image converts its environment."""
    name = variable.removeprefix("KAFKA_").lower()
    return (
        name.replace("___", "\0")
        .replace("__", "\1")
        .replace("_", ".")
        .replace("\0", "-")
        .replace("\1", "_")
    )


def shared_broker_settings(path: Path = BROKER_ENV) -> dict[str, str]:
    """The broker settings of ``broker.env`` as server.properties names and values."""
    settings: dict[str, str] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        variable, _, value = line.partition("=")
        if variable.startswith("KAFKA_") and variable not in IMAGE_VARIABLES:
            settings[property_name(variable)] = value
    return settings
