"""What every admin API gets from the platform: the audit trail, size and rate limits, errors."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import APIRouter, Request
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry
from pydantic import BaseModel
from sqlalchemy import select, text, update
from sqlalchemy.exc import DBAPIError

from libs.events.catalogue.organisation import FacilityRegistered
from libs.events.outbox.staging import MAX_RECORD_BYTES, stage_record
from libs.events.tables import OutboxRecord
from libs.events.unit_of_work import UnitOfWork
from libs.platform.audit.table import AuditEntry, IdempotencyRecord
from libs.platform.auth import Role, TokenAuthority
from libs.platform.database import Database, create_database
from libs.platform.http.app import HttpLimits, create_admin_app
from libs.platform.http.security import CurrentPrincipal, ensure_facility
from libs.platform.migrations import upgrade
from libs.platform.refusals import Conflict, Forbidden, Invalid, NotFound
from services.staffing.adapters.schema import MIGRATIONS
from tests.support.samples import sample_payload

AUTHORITY = TokenAuthority([("k", b"k" * 40)], "test")


class Note(BaseModel):
    text: str


def routes() -> APIRouter:
    router = APIRouter()

    @router.post("/facilities/{facility_id}/registrations", status_code=201)
    def register(
        facility_id: str, body: Note, principal: CurrentPrincipal, request: Request
    ) -> dict[str, str]:
        """A create with an effect: an event in the outbox."""
        ensure_facility(principal, facility_id)
        uow = request.app.state.uow_factory()
        with uow:
            event = uow.publish(sample_payload(FacilityRegistered, name=body.text))
            if body.text == "huge":  # as if the event were too large to publish
                stage_record(uow.session, topic="t", key=None, value=b"x" * MAX_RECORD_BYTES * 2)
            uow.commit()
        return {"event_id": event.id}

    @router.post("/facilities/{facility_id}/labels", status_code=201)
    def label(facility_id: str, body: Note, principal: CurrentPrincipal, request: Request) -> Any:
        """Text written to the database (as any text column is)."""
        ensure_facility(principal, facility_id)
        with request.app.state.uow_factory() as uow:
            return {
                "label": uow.session.execute(text("select :label"), {"label": body.text}).scalar()
            }

    @router.post("/facilities/{facility_id}/steps", status_code=201)
    def step(facility_id: str, body: Note) -> dict[str, str]:
        """A use case refusing, as every service's use cases refuse."""
        kinds = {"gone": NotFound, "taken": Conflict, "nonsense": Invalid, "theirs": Forbidden}
        raise kinds[body.text](f"{body.text}_code", f"refused: {body.text}", {"why": body.text})

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


def client(
    database: Database, *, registry: CollectorRegistry | None = None, **limits: Any
) -> TestClient:
    app = create_admin_app(
        service="testsvc",
        title="t",
        description="t",
        routers=[routes()],
        checks={},
        registry=registry or CollectorRegistry(),
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
    # The first refusal is on record with who sent it (its token, verified); a repeat within
    # the minute is counted, not recorded: refusals by the limits must not fill the trail.
    assert [(r.subject, r.status) for r in audit_rows(database)] == [
        ("user-clinic_staff", 413),
        ("user-clinic_staff", 201),
    ]


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


def test_fresh_junk_tokens_are_limited_by_where_they_come_from(database: Database) -> None:
    """Keyed on the raw bearer string, each junk token got a bucket of its own and was never
    limited; unverified callers now share their client address's."""
    api = client(database, rate_per_minute=60, rate_burst=3)
    statuses = [
        api.post(
            "/facilities/QS-T01/notes",
            json={"text": "x"},
            headers={"Authorization": f"Bearer junk-{n}"},
        ).status_code
        for n in range(6)
    ]
    assert statuses == [401, 401, 401, 429, 429, 429]
    # One person's tokens share a bucket too: a new token is not a new allowance.
    mine = [
        api.post("/facilities/QS-T01/notes", json={"text": "x"}, headers=bearer()).status_code
        for _ in range(4)
    ]
    assert mine == [201, 201, 201, 429]


def test_a_flood_of_unverified_requests_leaves_a_sample_in_the_trail_and_a_count(
    database: Database,
) -> None:
    registry = CollectorRegistry()
    # A slow refill: the 200 requests must exhaust the burst however long they take.
    api = client(database, rate_per_minute=60, rate_burst=50, registry=registry)
    for n in range(200):
        api.post("/facilities/QS-T01/notes", json={}, headers={"Authorization": f"Bearer x{n}"})
    assert sorted(r.status for r in audit_rows(database)) == [401, 429]
    unrecorded = sum(
        sample.value
        for metric in registry.collect()
        if metric.name == "testsvc_audit_unrecorded"
        for sample in metric.samples
        if sample.name.endswith("_total")
    )
    assert unrecorded == 198
    assert api.post("/facilities/QS-T01/notes", json={"text": "ok"}, headers=bearer()).status_code
    assert audit_rows(database)[-1].subject == "user-clinic_staff"  # real callers: every one


def outbox_size(database: Database) -> int:
    with database.sessions() as session:
        return len(session.scalars(select(OutboxRecord.id)).all())


def test_a_create_retried_under_its_idempotency_key_is_applied_once(database: Database) -> None:
    api = client(database)
    path = "/facilities/QS-T01/registrations"
    keyed = {**bearer(), "Idempotency-Key": "HIS-RX-0001"}
    first = api.post(path, json={"text": "卫生院"}, headers=keyed)
    again = api.post(path, json={"text": "卫生院"}, headers=keyed)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    assert outbox_size(database) == 1

    other = api.post(path, json={"text": "别的"}, headers=keyed)
    assert other.status_code == 409 and other.json()["error"] == "idempotency_key_reused"
    # The key is the caller's own: another caller's same key is another request.
    theirs = {**bearer(Role.COUNTY_ADMIN, None), "Idempotency-Key": "HIS-RX-0001"}
    assert api.post(path, json={"text": "卫生院"}, headers=theirs).status_code == 201
    assert outbox_size(database) == 2
    # A refused request changed nothing and kept no key: it may be sent again.
    elsewhere = {**bearer(), "Idempotency-Key": "HIS-RX-0002"}
    for _ in range(2):
        refused = api.post(
            "/facilities/QS-T02/registrations", json={"text": "x"}, headers=elsewhere
        )
        assert refused.status_code == 403
    assert outbox_size(database) == 2
    assert (
        api.post(path, json={"text": "y"}, headers={**bearer(), "Idempotency-Key": ""}).status_code
        == 400
    )


def test_a_key_whose_first_request_is_unfinished_is_refused_not_applied_again(
    database: Database,
) -> None:
    api = client(database)
    path = "/facilities/QS-T01/registrations"
    keyed = {**bearer(), "Idempotency-Key": "K-IN-FLIGHT"}
    assert api.post(path, json={"text": "a"}, headers=keyed).status_code == 201
    with database.sessions() as session:  # as if the answer were lost in a crash
        session.execute(update(IdempotencyRecord).values(status=None, body=None))
        session.commit()
    again = api.post(path, json={"text": "a"}, headers=keyed)
    assert again.status_code == 409 and again.json()["error"] == "idempotency_key_in_use"
    assert outbox_size(database) == 1


def test_a_request_that_would_publish_something_unpublishable_is_refused_whole(
    database: Database,
) -> None:
    api = client(database)
    refused = api.post("/facilities/QS-T01/registrations", json={"text": "huge"}, headers=bearer())
    assert refused.status_code == 413 and refused.json()["error"] == "too_large_to_publish"
    assert outbox_size(database) == 0  # the event it would have published went with it


def test_the_api_page_and_its_files_come_from_the_service_not_a_cdn(database: Database) -> None:
    api = client(database)
    page = api.get("/docs")
    assert page.status_code == 200
    sources = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text)
    assert sources and all(s.startswith("/docs/static/") for s in sources), sources
    for source in sources:
        served = api.get(source)
        assert served.status_code == 200 and len(served.content) > 100, source
    assert "url: '/openapi.json'" in page.text
    assert api.get("/openapi.json").json()["openapi"].startswith("3.1")


def test_a_value_the_database_refuses_is_the_client_s_error_not_a_500(database: Database) -> None:
    """PostgreSQL refuses NUL characters in text (SQLite stores them): either way a clear
    4xx, nothing written."""
    response = client(database).post(
        "/facilities/QS-T01/labels", json={"text": "a\u0000b"}, headers=bearer()
    )
    if database.dialect == "sqlite":
        assert response.status_code == 201, response.text
    else:
        assert response.status_code == 422, response.text
        assert response.json()["error"] == "invalid_value"
        assert "NUL" in response.json()["message"]


def test_a_refused_use_case_is_answered_by_its_kind_in_the_one_error_shape(
    database: Database,
) -> None:
    api = client(database)
    for kind, status in (("gone", 404), ("taken", 409), ("nonsense", 422), ("theirs", 403)):
        response = api.post("/facilities/QS-T01/steps", json={"text": kind}, headers=bearer())
        assert response.status_code == status
        assert response.json() == {
            "error": f"{kind}_code",
            "message": f"refused: {kind}",
            "details": {"why": kind},
        }
