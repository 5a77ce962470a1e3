"""What every admin API gets from the platform: the audit trail, size and rate limits, errors."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry
from pydantic import BaseModel
from sqlalchemy import select, text, update
from sqlalchemy.exc import DBAPIError

from libs.events.unit_of_work import UnitOfWork
from libs.platform.audit.table import AuditEntry
from libs.platform.auth import Role, TokenAuthority
from libs.platform.database import Database, create_database
from libs.platform.http.app import HttpLimits, create_admin_app
from libs.platform.http.security import CurrentPrincipal, ensure_facility
from libs.platform.migrations import upgrade
from services.staffing.adapters.schema import MIGRATIONS

AUTHORITY = TokenAuthority([("k", b"k" * 40)], "test")


class Note(BaseModel):
    text: str


def routes() -> APIRouter:
    router = APIRouter()

    @router.post("/facilities/{facility_id}/notes", status_code=201)
    def add_note(facility_id: str, body: Note, principal: CurrentPrincipal) -> dict[str, str]:
        ensure_facility(principal, facility_id)
        return {"facility": facility_id, "text": body.text}

    return router


@pytest.fixture
def database(make_database: Callable[[str], str]) -> Iterator[Database]:
    url = make_database("staffing")
    upgrade(MIGRATIONS, url)
    db = create_database(url)
    yield db
    db.dispose()


def client(database: Database, **limits: int) -> TestClient:
    app = create_admin_app(
        service="testsvc",
        title="t",
        description="t",
        routers=[routes()],
        checks={},
        registry=CollectorRegistry(),
        token_authority=AUTHORITY,
        sessions=database.sessions,
        limits=HttpLimits(**limits),
    )
    app.state.uow_factory = lambda: UnitOfWork(database.sessions, source="/services/testsvc")
    return TestClient(app)


def bearer(role: Role = Role.CLINIC_STAFF, facility: str | None = "QS-T01") -> dict[str, str]:
    token = AUTHORITY.mint(subject=f"user-{role.value}", role=role, facility_id=facility)
    return {"Authorization": f"Bearer {token}"}


def audit_rows(database: Database) -> list[AuditEntry]:
    with database.sessions() as session:
        return list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))


def test_every_mutating_call_is_audited_with_who_what_when_and_where(database: Database) -> None:
    api = client(database)
    assert (
        api.post(
            "/facilities/QS-T01/notes",
            json={"text": "ok"},
            headers={**bearer(), "X-Correlation-ID": "req-7"},
        ).status_code
        == 201
    )
    assert (
        api.post("/facilities/QS-T02/notes", json={"text": "no"}, headers=bearer()).status_code
        == 403
    )
    assert api.post("/facilities/QS-T01/notes", json={"text": "who?"}).status_code == 401
    assert api.get("/healthz").status_code == 200  # reads are not audited
    ok, forbidden, anonymous = audit_rows(database)
    assert (ok.subject, ok.role, ok.facility_id, ok.status) == (
        "user-clinic_staff",
        "clinic_staff",
        "QS-T01",
        201,
    )
    assert ok.method == "POST" and ok.route == "/facilities/{facility_id}/notes"
    assert ok.path == "/facilities/QS-T01/notes" and ok.correlation_id == "req-7"
    assert ok.client and ok.at and ok.token_id
    assert (forbidden.subject, forbidden.status) == ("user-clinic_staff", 403)
    assert (anonymous.subject, anonymous.status) == (None, 401)


def test_the_trail_is_read_only_for_the_county_admin_and_in_the_database(
    database: Database,
) -> None:
    api = client(database)
    api.post("/facilities/QS-T01/notes", json={"text": "x"}, headers=bearer())
    assert api.get("/audit", headers=bearer()).status_code == 403
    trail = api.get("/audit", headers=bearer(Role.COUNTY_ADMIN, None)).json()
    assert trail["total"] >= 1 and trail["items"][0]["route"] == "/facilities/{facility_id}/notes"
    assert api.delete("/audit", headers=bearer(Role.COUNTY_ADMIN, None)).status_code == 405
    before = [(r.id, r.subject, r.status) for r in audit_rows(database)]
    assert before[-1][2] == 405  # the attempt to delete through the API is itself on record
    for tampering in (
        update(AuditEntry).values(subject="someone else"),
        text("DELETE FROM audit_log"),
    ):
        with database.sessions() as session:
            with pytest.raises(DBAPIError, match="append-only"):
                session.execute(tampering)
            session.rollback()
    assert [(r.id, r.subject, r.status) for r in audit_rows(database)] == before


def test_oversized_bodies_are_refused_with_413_declared_or_streamed(database: Database) -> None:
    api = client(database, max_body_bytes=2048)
    big = {"text": "x" * 5000}
    declared = api.post("/facilities/QS-T01/notes", json=big, headers=bearer())
    assert declared.status_code == 413 and declared.json()["error"] == "payload_too_large"

    def chunks() -> Iterator[bytes]:
        yield b'{"text": "'
        yield b"y" * 4000
        yield b'"}'

    streamed = api.post(
        "/facilities/QS-T01/notes",
        content=chunks(),
        headers={**bearer(), "Content-Type": "application/json"},
    )
    assert streamed.status_code == 413
    small = api.post(
        "/facilities/QS-T01/notes",
        content=iter([b'{"text":', b' "fine"}']),
        headers={**bearer(), "Content-Type": "application/json"},
    )
    assert small.status_code == 201 and small.json()["text"] == "fine"
    assert [r.status for r in audit_rows(database)] == [413, 413, 201]


def test_each_token_has_its_own_rate_limit_on_changes(database: Database) -> None:
    api = client(database, rate_per_minute=60, rate_burst=3)
    alice, bob = bearer(facility="QS-T01"), bearer(Role.COUNTY_ADMIN, None)
    statuses = [
        api.post("/facilities/QS-T01/notes", json={"text": "a"}, headers=alice).status_code
        for _ in range(4)
    ]
    assert statuses == [201, 201, 201, 429]
    refused = api.post("/facilities/QS-T01/notes", json={"text": "a"}, headers=alice)
    assert refused.json()["error"] == "rate_limited" and int(refused.headers["retry-after"]) >= 1
    assert api.post("/facilities/QS-T01/notes", json={"text": "b"}, headers=bob).status_code == 201
    assert api.get("/healthz", headers=alice).status_code == 200  # reads are not limited


def test_bad_input_gets_a_json_error_never_a_500(database: Database) -> None:
    api = client(database)
    for body in (b"{not json", b'{"text": 5}', b"[]"):
        response = api.post(
            "/facilities/QS-T01/notes",
            content=body,
            headers={**bearer(), "Content-Type": "application/json"},
        )
        assert response.status_code == 422
        assert response.json()["error"] == "invalid_input"
    assert api.get("/nowhere").json() == {"error": "not_found", "message": "Not Found"}
