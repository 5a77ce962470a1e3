"""A throw-away PostgreSQL server for the tests and the benchmark, started from the machine's
server binaries (Debian's ``postgresql`` package: ``make test`` installs it when it is
missing and may) on a free loopback port, in a temporary directory removed afterwards.

``postgres`` refuses to run as root: as root the server runs as the ``postgres`` system user
the Debian package creates. Tests run it without durability (``fsync`` off: a crashed test
server is thrown away anyway); the benchmark keeps PostgreSQL's defaults, as a real server.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Self

from libs.launcher.ports import free_port

__all__ = ["PostgresServer", "server_binaries"]

#: For a test server only: a lost commit costs nothing, a synced one costs milliseconds.
NOT_DURABLE = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}
SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "unix_socket_directories": "",
    # Each test's services hold a pool each, and two test workers run at once.
    "max_connections": "400",
    "shared_buffers": "128MB",
    "log_min_messages": "warning",
}


def server_binaries() -> Path:
    """The directory holding ``initdb`` and ``postgres``: ``POSTGRES_BIN_DIR``, else the
    newest Debian server (``/usr/lib/postgresql/<major>/bin``), else the ``PATH``."""
    candidates: list[Path] = []
    if os.environ.get("POSTGRES_BIN_DIR"):
        candidates.append(Path(os.environ["POSTGRES_BIN_DIR"]))
    debian = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    candidates += debian
    on_path = shutil.which("postgres")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    for directory in candidates:
        if (directory / "initdb").is_file() and (directory / "postgres").is_file():
            return directory
    raise FileNotFoundError(
        "no PostgreSQL server binaries (initdb, postgres): install Debian's postgresql "
        "package, set POSTGRES_BIN_DIR, or point the tests at a server with "
        "TEST_POSTGRES_ADMIN_URL"
    )


class PostgresServer:
    """One ``postgres`` process on ``127.0.0.1:port``, superuser ``postgres``, trust auth."""

    def __init__(self, *, durable: bool = False) -> None:
        self.durable = durable
        self.port = 0
        self.directory: Path | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self._user: str | None = "postgres" if os.geteuid() == 0 else None

    @property
    def admin_url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self, timeout_s: float = 60.0) -> None:
        binaries = server_binaries()
        self.directory = Path(tempfile.mkdtemp(prefix="mc-postgres-"))
        data = self.directory / "data"
        if self._user is not None:
            account = pwd.getpwnam(self._user)
            os.chown(self.directory, account.pw_uid, account.pw_gid)
        initdb = subprocess.run(
            [str(binaries / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
             "--encoding=UTF8", "--locale=C", "--no-sync"],
            capture_output=True, user=self._user, check=False,
        )  # fmt: skip
        if initdb.returncode != 0:
            self.stop()
            raise RuntimeError(f"initdb failed:\n{initdb.stdout.decode()}{initdb.stderr.decode()}")
        settings = {**SETTINGS, **({} if self.durable else NOT_DURABLE)}
        self.port = free_port()
        options = [f"-c{k}={v}" for k, v in {**settings, "port": str(self.port)}.items()]
        with (self.directory / "server.log").open("ab") as log:
            self.process = subprocess.Popen(
                [str(binaries / "postgres"), "-D", str(data), *options],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                user=self._user,
            )  # fmt: skip
        try:
            self._wait_accepting(timeout_s)
        except BaseException:
            self.stop()
            raise

    def _wait_accepting(self, timeout_s: float) -> None:
        import psycopg

        assert self.process is not None
        deadline = time.monotonic() + timeout_s
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"postgres exited at start:\n{self.log()[-3000:]}")
            try:
                psycopg.connect(
                    f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres",
                    connect_timeout=2,
                ).close()
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def log(self) -> str:
        path = self.directory / "server.log" if self.directory else None
        return path.read_text(errors="replace") if path and path.exists() else ""

    def stop(self, timeout_s: float = 30.0) -> None:
        """Fast shutdown (SIGINT: roll back open transactions, disconnect), then remove it all."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None

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
