"""`PHARMACY_PROCESSES=2 make run`: two pharmacy processes in one consumer group on one
PostgreSQL database; they split the ingestion partitions, one relays, and the other takes the
relay over when the leader is killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from kafka import KafkaProducer
from prometheus_client.parser import text_string_to_metric_families

from libs.launcher.config import PORT_STRIDE, SERVICES
from libs.launcher.ports import free_port, listening_pids
from tests.e2e.test_launcher import all_ready
from tests.support.databases import postgres_database, require_postgres
from tests.support.kafka import wait_for
from tests.support.services import REPO_ROOT, TEST_KAFKA_ENV

TOPIC = "ingestion.prescription"


def _samples(port: int, name: str) -> list[tuple[dict[str, str], float]]:
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    return [
        (sample.labels, sample.value)
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    ]


def _leader(port: int) -> float:
    return sum(value for _, value in _samples(port, "pharmacy_outbox_relay_leader"))


def _leading(port: int) -> float:
    """As :func:`_leader`, 0 while the process is down (killed, not yet restarted)."""
    try:
        return _leader(port)
    except httpx.HTTPError:
        return 0.0


def _partitions(port: int) -> set[int]:
    return {
        int(labels["partition"])
        for labels, _ in _samples(port, "pharmacy_consumer_lag")
        if labels.get("topic") == TOPIC
    }


def _one_bad_record_per_partition(bootstrap: str) -> None:
    """Undecodable records, one into each ingestion partition: dead-lettered by whichever
    process holds the partition, which then reports that partition's lag."""
    producer = KafkaProducer(bootstrap_servers=bootstrap)
    for partition in range(6):
        producer.send(TOPIC, key=b"QS-T01", value=b"not json", partition=partition)
    producer.flush()
    producer.close()


def _dead_lettered(port: int) -> float:
    return sum(value for _, value in _samples(port, "pharmacy_events_dead_lettered_total"))


#: The whole suite with two pharmacy processes: under a minute on an idle machine; beside two
#: other workers' suites in CI not ready in five (it runs in the round that runs alone).
@pytest.mark.alone
@pytest.mark.timeout(600)
def test_two_pharmacy_processes_share_the_partitions_and_one_relay(tmp_path: Path) -> None:
    require_postgres()
    ports = {name: free_port() for name in SERVICES}
    broker_port = free_port()
    pharmacy = [ports["pharmacy"], ports["pharmacy"] + PORT_STRIDE]
    everything = {**ports, "pharmacy-2": pharmacy[1]}
    env = {
        **os.environ,
        **TEST_KAFKA_ENV,
        "DATA_DIR": str(tmp_path / "data"),
        "EMBEDDED_BROKER_PORT": str(broker_port),
        "SIMULATE": "0",
        "PHARMACY_PROCESSES": "2",
    }
    env.update({f"{name.upper()}_HTTP_PORT": str(port) for name, port in ports.items()})
    for name in SERVICES:
        env.pop(f"{name.upper()}_DATABASE_URL", None)
    with postgres_database("mc_scaled_pharmacy") as url:
        env["PHARMACY_DATABASE_URL"] = url
        log_path = tmp_path / "launcher.log"
        with log_path.open("wb") as log:
            launcher = subprocess.Popen(
                [sys.executable, "-m", "libs.launcher", "run", "--no-tokens"],
                cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        try:
            wait_for(
                lambda: all_ready(everything), timeout_s=300, interval_s=1, what="every process"
            )
            # Both consume: each record is handled once, by the process holding its
            # partition, and both hold some.
            _one_bad_record_per_partition(f"127.0.0.1:{broker_port}")
            wait_for(
                lambda: sum(_dead_lettered(p) for p in pharmacy) == 6,
                timeout_s=60,
                what="the six records dead-lettered once each",
            )
            assert all(_dead_lettered(p) >= 1 for p in pharmacy)
            wait_for(  # the lag gauges are refreshed every 5 s
                lambda: (
                    all(held := [_partitions(p) for p in pharmacy])
                    and held[0] | held[1] == set(range(6))
                ),
                timeout_s=20,
                what="each process to report the partitions it holds",
            )
            # One publishes.
            wait_for(
                lambda: sum(_leader(p) for p in pharmacy) == 1, timeout_s=30, what="one leader"
            )
            leader = max(pharmacy, key=_leader)
            # Kill the leader outright: its lock goes with its connection, and the standby
            # (asking every 5 s) or the killed process, restarted by supervisord within a few
            # seconds, takes the lease; either way exactly one publishes again.
            # (tests/integration/test_relay_lease.py hands it to a standby deterministically.)
            for pid in listening_pids(leader):
                os.kill(pid, signal.SIGKILL)
            wait_for(
                lambda: sum(_leading(p) for p in pharmacy) == 1, timeout_s=60, what="a new leader"
            )
            wait_for(lambda: all_ready(everything), timeout_s=120, interval_s=1, what="again")
            assert sum(_leader(p) for p in pharmacy) == 1
        finally:
            launcher.send_signal(signal.SIGINT)
            try:
                launcher.wait(60)
            except subprocess.TimeoutExpired:
                launcher.kill()
                launcher.wait()
