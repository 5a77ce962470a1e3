"""A real Apache Kafka cluster for the tests and the benchmark: KRaft nodes that are each
broker and controller, on free loopback ports, from Maven Central's jars and with the compose
cluster's settings (``tests/support/kafka_setup.py``), authentication and ACLs included.

Every client authenticates: the harness and the test helpers as the operator ``admin``
(PLAIN, a super user), each service and the hospital systems as their own SCRAM principal,
whose password is derived from the cluster's ``secret`` (:func:`password_for`); the
principals are created when the cluster starts, the ACLs per topic namespace
(``tests/support/brokers.py``).

Faults: a node can be killed, stopped, frozen (SIGSTOP), thawed and started again on its own
data, as the fault tests need.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import os
import re
import shutil
import signal
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from libs.events.access import create_principals, principals
from libs.events.credentials import KafkaCredentials
from libs.launcher.ports import free_port, listening_pids
from tests.support.kafka_setup import broker_jars, shared_broker_settings

__all__ = ["OPERATOR", "KafkaCluster", "KafkaNode", "node_properties", "operator", "password_for"]

#: The cluster's super user (``super.users`` in infra/kafka/broker.env).
OPERATOR = "admin"


def password_for(secret: str, principal: str) -> str:
    """The password of ``principal`` on a test cluster whose secret is ``secret``."""
    return hmac.new(secret.encode(), principal.encode(), hashlib.sha256).hexdigest()[:32]


def operator(secret: str) -> KafkaCredentials:
    """The operator's credentials on a test cluster (PLAIN on the BROKER listener)."""
    return KafkaCredentials("SASL_PLAINTEXT", "PLAIN", OPERATOR, password_for(secret, OPERATOR))


#: Heap of each node. Kafka's own scripts give 1 GiB; a test cluster's topics and rates fit
#: in a quarter of that (docs/performance.md measures what three nodes cost).
HEAP = os.environ.get("TEST_KAFKA_HEAP", "256m")
JVM_OPTIONS = (
    # Kafka's own choice (bin/kafka-run-class.sh), with the heap fixed so it never grows.
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-XX:InitiatingHeapOccupancyPercent=35",
    "-XX:+ExplicitGCInvokesConcurrent",
    "-Djava.awt.headless=true",
)
#: For the tests only: the quick (C1) compiler alone. Measured on 2 cores: three nodes start
#: in 6 s instead of 9 and burn 0.22 of a core idle instead of 0.5, at some peak throughput
#: the tests never need; the benchmark keeps the full JIT.
QUICK_JIT = ("-XX:TieredStopAtLevel=1",)
LOG4J = """\
log4j.rootLogger=WARN, file
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File=${kafka.logs.dir}/server.log
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.server.BrokerServer=INFO
log4j.logger.kafka.server.ControllerServer=INFO
log4j.logger.kafka.server.KafkaRaftServer=INFO
"""


@dataclass
class KafkaNode:
    node_id: int
    port: int
    controller_port: int
    directory: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def data_dir(self) -> Path:
        return self.directory / "data"

    @property
    def properties_file(self) -> Path:
        return self.directory / "server.properties"

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


def node_properties(node: KafkaNode, voters: str, secret: str) -> dict[str, str]:
    """One node's server.properties: the shared settings, where this node is, and the
    operator's password (the PLAIN login of the BROKER and CONTROLLER listeners)."""
    password = password_for(secret, OPERATOR)
    plain = (
        "org.apache.kafka.common.security.plain.PlainLoginModule required "
        f'username="{OPERATOR}" password="{password}" user_{OPERATOR}="{password}";'
    )
    return {
        **shared_broker_settings(),
        "node.id": str(node.node_id),
        "listeners": f"BROKER://{node.address},CONTROLLER://127.0.0.1:{node.controller_port}",
        "advertised.listeners": f"BROKER://{node.address}",
        "controller.quorum.voters": voters,
        "log.dirs": str(node.data_dir),
        "listener.name.broker.plain.sasl.jaas.config": plain,
        "listener.name.controller.plain.sasl.jaas.config": plain,
    }


#: ``offsets.topic.num.partitions``, Kafka's default (broker.env does not change it).
OFFSETS_PARTITIONS = 50


def _java_hash(text: str) -> int:
    """``Utils.abs(text.hashCode())``, as Kafka places a group on ``__consumer_offsets``."""
    value = 0
    for unit in text.encode("utf-16-be").hex(" ", 2).split():
        value = (31 * value + int(unit, 16)) & 0xFFFFFFFF
    return value & 0x7FFFFFFF


def _cluster_id() -> str:
    """A KRaft cluster id: a random UUID in Kafka's URL-safe base64 form."""
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")


class KafkaCluster:
    """``nodes`` combined broker+controller nodes under ``directory``; a context manager."""

    def __init__(
        self, directory: Path, *, nodes: int = 3, heap: str = HEAP, quick_jit: bool = True
    ) -> None:
        self.directory = directory
        self.heap = heap
        self.jvm_options = JVM_OPTIONS + (QUICK_JIT if quick_jit else ())
        self.cluster_id = _cluster_id()
        #: Every principal's password derives from it (:func:`password_for`).
        self.secret = uuid.uuid4().hex
        self.operator = operator(self.secret)
        self.nodes = [KafkaNode(i, 0, 0, directory / f"node-{i}") for i in range(1, nodes + 1)]
        self._jars: Path | None = None

    @property
    def bootstrap_servers(self) -> str:
        return ",".join(node.address for node in self.nodes)

    def node(self, node_id: int) -> KafkaNode:
        return self.nodes[node_id - 1]

    # --- starting ------------------------------------------------------------------------

    def start(self, *, timeout_s: float = 120.0, attempts: int = 3) -> None:
        """Format every node's storage, start them all and wait until each is a broker of
        the cluster. A port taken between choosing it and binding it means another try."""
        self._jars = broker_jars()
        for attempt in range(1, attempts + 1):
            self._place_nodes()
            self._format()
            for node in self.nodes:
                self._launch(node)
            try:
                self.wait_ready(timeout_s=timeout_s)
                self._create_principals()
                return
            except _PortTaken:
                self._stop_all(signal.SIGKILL)
                if attempt == attempts:
                    raise
            except BaseException:
                self.stop()
                raise

    def _create_principals(self) -> None:
        """Each service's and the hospital systems' SCRAM principal (the ACLs come per
        namespace)."""
        passwords = {name: password_for(self.secret, name) for name in principals()}
        create_principals(self.bootstrap_servers, passwords, self.operator)

    def credentials_of(self, principal: str) -> KafkaCredentials:
        """The SCRAM credentials of one of the suite's principals on this cluster."""
        return KafkaCredentials(
            "SASL_PLAINTEXT", "SCRAM-SHA-512", principal, password_for(self.secret, principal)
        )

    def _place_nodes(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)
        for node in self.nodes:
            node.port, node.controller_port = free_port(), free_port()
            node.directory.mkdir(parents=True)
            (node.directory / "log4j.properties").write_text(LOG4J)
        voters = ",".join(f"{n.node_id}@127.0.0.1:{n.controller_port}" for n in self.nodes)
        for node in self.nodes:
            lines = [f"{k}={v}" for k, v in node_properties(node, voters, self.secret).items()]
            node.properties_file.write_text("\n".join(lines) + "\n")

    def _java(self, node: KafkaNode, main: str, *args: str, heap: str) -> list[str]:
        assert self._jars is not None
        java = (
            str(Path(os.environ["JAVA_HOME"]) / "bin" / "java")
            if os.environ.get("JAVA_HOME")
            else "java"
        )
        return [
            java, f"-Xms{heap}", f"-Xmx{heap}", *self.jvm_options,
            f"-Dlog4j.configuration=file:{node.directory / 'log4j.properties'}",
            f"-Dkafka.logs.dir={node.directory}",
            "-cp", f"{self._jars}/*", main, *args,
        ]  # fmt: skip

    def _format(self) -> None:
        formatting = []
        for node in self.nodes:
            command = self._java(
                # One argument: a base64 id may begin with "-".
                node, "kafka.tools.StorageTool", "format", f"--cluster-id={self.cluster_id}",
                "-c", str(node.properties_file), heap="128m",
            )  # fmt: skip
            formatting.append(
                subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            )
        for node, process in zip(self.nodes, formatting, strict=True):
            output, _ = process.communicate(timeout=60)
            if process.returncode != 0:
                raise RuntimeError(f"formatting node {node.node_id} failed:\n{output.decode()}")

    def _launch(self, node: KafkaNode) -> None:
        with (node.directory / "stdout.log").open("ab") as out:
            node.process = subprocess.Popen(
                self._java(node, "kafka.Kafka", str(node.properties_file), heap=self.heap),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )

    def wait_ready(self, *, timeout_s: float = 120.0, nodes: list[int] | None = None) -> None:
        """Until every node in ``nodes`` (default: all) listens and the cluster's metadata,
        read through each of them, lists them all as brokers."""
        wanted = [self.node(i) for i in nodes] if nodes else self.nodes
        deadline = time.monotonic() + timeout_s
        for node in wanted:
            self._wait_listening(node, deadline)
        expected = {n.node_id for n in wanted}
        while True:
            if all(expected <= self._brokers_seen_by(node) for node in wanted):
                return
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"kafka nodes {sorted(expected)} not ready in {timeout_s}s: {self.log_tail()}"
                )
            time.sleep(0.2)

    def _wait_listening(self, node: KafkaNode, deadline: float) -> None:
        assert node.process is not None
        while True:
            if node.process.poll() is not None:
                tail = self.log_tail(node)
                if "Address already in use" in tail:
                    raise _PortTaken(tail)
                raise RuntimeError(f"kafka node {node.node_id} exited at start: {tail}")
            holders = listening_pids(node.port)
            if node.process.pid in holders:
                return
            if holders:
                raise _PortTaken(f"port {node.port} is held by {sorted(holders)}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"kafka node {node.node_id} never listened on {node.port}")
            time.sleep(0.1)

    def _brokers_seen_by(self, node: KafkaNode) -> set[int]:
        from kafka import KafkaAdminClient
        from kafka.errors import KafkaError

        try:
            admin = KafkaAdminClient(
                bootstrap_servers=node.address,
                request_timeout_ms=3000,
                client_id="harness",
                **self.operator.client_options(),
            )
        except (KafkaError, OSError):
            return set()
        try:
            brokers = admin.describe_cluster().get("brokers", [])
            return {int(b["broker_id"]) for b in brokers if not b.get("is_fenced")}
        except (KafkaError, OSError):
            return set()
        finally:
            admin.close()

    # --- faults --------------------------------------------------------------------------

    def kill(self, node_id: int) -> None:
        """SIGKILL one node, as a crash or an OOM kill would."""
        node = self.node(node_id)
        if node.alive():
            assert node.process is not None
            node.process.send_signal(signal.SIGCONT)  # a frozen node must die too
            node.process.kill()
            node.process.wait()

    def stop_node(self, node_id: int, timeout_s: float = 60.0) -> None:
        """Stop one node cleanly (SIGTERM: controlled shutdown), as a rolling restart does."""
        node = self.node(node_id)
        if node.alive():
            assert node.process is not None
            node.process.terminate()
            try:
                node.process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                node.process.kill()
                node.process.wait()

    def start_nodes(self, *node_ids: int, timeout_s: float = 120.0) -> None:
        """Start stopped or killed nodes again on their own data and ports, together (two
        controllers of three are a quorum only once both are up)."""
        for node_id in node_ids:
            node = self.node(node_id)
            assert not node.alive(), f"node {node_id} is running"
            self._launch(node)
        self.wait_ready(timeout_s=timeout_s, nodes=list(node_ids))

    def freeze(self, node_id: int) -> None:
        """SIGSTOP: the node keeps its sockets but answers nothing (a stalled VM, a GC storm)."""
        process = self.node(node_id).process
        assert process is not None
        process.send_signal(signal.SIGSTOP)

    def thaw(self, node_id: int) -> None:
        process = self.node(node_id).process
        assert process is not None
        process.send_signal(signal.SIGCONT)

    def leader_of(self, topic: str, partition: int = 0, timeout_s: float = 30.0) -> int:
        """The node that leads ``topic``'s ``partition`` now (waiting while it has none)."""
        from kafka import KafkaAdminClient

        deadline = time.monotonic() + timeout_s
        while True:
            live = [n.address for n in self.nodes if n.alive()]
            admin = KafkaAdminClient(
                bootstrap_servers=live, request_timeout_ms=5000, **self.operator.client_options()
            )
            try:
                (described,) = admin.describe_topics([topic])
            finally:
                admin.close()
            for p in described["partitions"]:
                if p["partition_index"] == partition and p["leader_id"] >= 0:
                    return int(p["leader_id"])
            if time.monotonic() > deadline:
                raise LookupError(f"{topic}[{partition}] has no leader")
            time.sleep(0.2)

    def coordinator_of(self, group: str) -> int:
        """The node coordinating consumer group ``group``: the leader of its partition of
        ``__consumer_offsets`` (Kafka's choice: the group id's Java hash code modulo the
        partition count, 50 by default)."""
        return self.leader_of("__consumer_offsets", _java_hash(group) % OFFSETS_PARTITIONS)

    def under_replicated(self) -> list[str]:
        """Partitions whose in-sync replicas are fewer than their replicas (empty: all caught
        up), as ``topic[partition]``."""
        from kafka import KafkaAdminClient

        live = [n.address for n in self.nodes if n.alive()]
        admin = KafkaAdminClient(
            bootstrap_servers=live, request_timeout_ms=5000, **self.operator.client_options()
        )
        try:
            described = admin.describe_topics()
        finally:
            admin.close()
        return [
            f"{topic['name']}[{p['partition_index']}]"
            for topic in described
            for p in topic["partitions"]
            if len(p["isr_nodes"]) < len(p["replica_nodes"])
        ]

    def wait_fully_replicated(self, timeout_s: float = 120.0) -> None:
        """Until every partition's replicas are all in sync again (after a node came back)."""
        deadline = time.monotonic() + timeout_s
        while lagging := self.under_replicated():
            if time.monotonic() > deadline:
                raise TimeoutError(f"still under-replicated after {timeout_s}s: {lagging[:5]}")
            time.sleep(0.5)

    # --- stopping and measuring ----------------------------------------------------------

    def stop(self, timeout_s: float = 60.0) -> None:
        """Stop every node (SIGTERM together, then SIGKILL whatever is still running)."""
        self._stop_all(signal.SIGTERM, timeout_s)

    def _stop_all(self, sig: int, timeout_s: float = 60.0) -> None:
        running = [n.process for n in self.nodes if n.alive()]
        for process in running:
            assert process is not None
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGCONT)
                process.send_signal(sig)
        deadline = time.monotonic() + timeout_s
        for process in running:
            assert process is not None
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def log_tail(self, node: KafkaNode | None = None, chars: int = 3000) -> str:
        texts = []
        for n in [node] if node else self.nodes:
            for name in ("stdout.log", "server.log"):
                path = n.directory / name
                if path.exists():
                    texts.append(f"--- node {n.node_id} {name}\n{path.read_text(errors='replace')}")
        return "\n".join(texts)[-chars:]

    def cost(self) -> dict[str, Any]:
        """What the running nodes cost: resident memory (MiB) and CPU seconds so far."""
        rss, cpu = [], []
        ticks = os.sysconf("SC_CLK_TCK")
        for node in self.nodes:
            if not node.alive():
                continue
            assert node.process is not None
            status = Path(f"/proc/{node.process.pid}/status").read_text()
            match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
            rss.append(int(match.group(1)) / 1024 if match else 0.0)
            fields = Path(f"/proc/{node.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
            cpu.append((int(fields[11]) + int(fields[12])) / ticks)
        return {"nodes": len(rss), "rss_mib": round(sum(rss), 1), "cpu_s": round(sum(cpu), 1)}

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class _PortTaken(RuntimeError):
    """A port chosen for a node was taken before the node could bind it."""
