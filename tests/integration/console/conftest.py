"""The console in the test's own process: migrated SQLite, the seed county's organisation
applied through its handlers, its demo sign-ins created; a browser-like client that keeps
cookies and reads each form's tokens."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from libs.platform.worker import ServiceProcess
from tests.support.apps import holding_the_county, in_process, organisation_events

PASSWORDS = {"admin": "county-centre-2026", "donghu": "east-lake-2026",
             "hospital": "county-desk-2026", "pharmacy": "central-drugs-2026",
             "finance": "pooled-ledger-2026", "renshi": "expert-rotation-2026"}  # fmt: skip


class Browser:
    """A person's browser: cookies kept, redirects not followed (the tests look at them)."""

    def __init__(self, process: ServiceProcess) -> None:
        self.process = process
        app = _APPS.setdefault(id(process), process.admin_app())  # one app per process
        self.client = TestClient(app, raise_server_exceptions=True, follow_redirects=False)
        self.client.headers["accept"] = "text/html"

    def sign_in(self, username: str, password: str | None = None, next: str = "/") -> int:
        form = self.client.get("/sign-in")
        token = field(form.text, "form_token")
        answer = self.client.post(
            "/sign-in",
            data={"username": username, "password": password or PASSWORDS[username],
                  "form_token": token, "next": next},
        )  # fmt: skip
        return answer.status_code

    def csrf(self, page: str = "/") -> str:
        return field(self.client.get(page).text, "csrf_token")


_APPS: dict[int, FastAPI] = {}


def field(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, f"no {name} in the page"
    return found.group(1)


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    directory = tmp_path_factory.mktemp("console")
    process = in_process("console", f"sqlite:///{directory / 'console.sqlite3'}", directory)
    harness = holding_the_county(process, organisation_events(directory))
    for job in process.periodic:
        if job.name == "demo_sign_ins":
            job.run()
    yield process
    _APPS.pop(id(process), None)
    harness.close()
    process.database.dispose()


@pytest.fixture
def browser(console: ServiceProcess) -> Browser:
    return Browser(console)


@pytest.fixture
def make_browser(console: ServiceProcess) -> type[Browser]:
    return Browser


def unique(prefix: str, request: pytest.FixtureRequest) -> str:
    return f"{prefix}{abs(hash(request.node.name)) % 10**6}"


__all__ = ["Browser", "Path", "field", "unique"]
