"""The reporting admin API in-process on a real database (SQLite and PostgreSQL): the
catalogue, current values, series, CSV, clinic scoping, errors, and the Prometheus gauges."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client import generate_latest

from libs.events.catalogue.values import PrescriptionCategory
from libs.events.envelope import utc_now
from libs.platform.auth import Role
from libs.platform.settings import PlatformSettings
from libs.platform.worker import ServiceProcess
from services.reporting.bootstrap import compose
from services.reporting.domain.indicators import INDICATORS
from services.reporting.settings import Settings
from tests.support.databases import database_url
from tests.support.harness import HandlerHarness
from tests.support.reporting import REPORTING_UOW, known_batch, prescription, seed_organisation


@dataclass
class Api:
    process: ServiceProcess
    client: TestClient

    def headers(
        self, role: Role = Role.COUNTY_ADMIN, facility: str | None = None
    ) -> dict[str, str]:
        token = self.process.token_authority.mint(
            subject=f"{role.value}-{facility}", role=role, facility_id=facility
        )
        return {"Authorization": f"Bearer {token}"}

    def get(self, path: str, params: dict[str, str] | None = None, **named: str) -> Any:
        """GET as the county's administrator, with query ``params`` (and ``named`` ones)."""
        return self.client.get(path, params={**(params or {}), **named}, headers=self.headers())

    def as_clinic(self, facility: str, path: str, params: dict[str, str]) -> Any:
        headers = self.headers(Role.CLINIC_STAFF, facility)
        return self.client.get(path, params=params, headers=headers)


@contextmanager
def serving(url: str, data_dir: Path) -> Iterator[Api]:
    process = compose(PlatformSettings(data_dir=data_dir), Settings(database_url=url))
    with TestClient(process.admin_app(), raise_server_exceptions=False) as client:
        yield Api(process, client)
    process.database.dispose()


@pytest.fixture(scope="module")
def api(module_db_kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """One database per kind for the module's read-only tests, holding the known batch."""
    directory = tmp_path_factory.mktemp("reporting-api")
    with database_url(module_db_kind, directory, "reporting") as url:
        harness = HandlerHarness("reporting", url, units_of_work=REPORTING_UOW)
        harness.apply(*seed_organisation())
        harness.apply(*known_batch())
        harness.close()
        with serving(url, directory) as running:
            yield running


def test_the_catalogue_defines_every_indicator_once(api: Api) -> None:
    response = api.client.get("/indicators", headers=api.headers(Role.HR))
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == len(INDICATORS)
    by_code = {i["code"]: i for i in body["items"]}
    rate = by_code["in_county_visit_rate"]
    assert rate["levels"] == ["county"]
    assert rate["factor"] == 100 and rate["unit"] == "%"
    assert rate["sources"] == ["ingestion.visit.recorded.v1"]
    assert "outside the county" in rate["levels_why"]
    assert by_code["stocked_out_items"]["behaviour"] == "level"


def test_current_values_by_unit(api: Api) -> None:
    body = api.get("/indicators/tcm_prescription_share", period="2026-11").json()
    rows = {(r["level"], r["unit_id"]): r for r in body["items"]}
    assert rows[("county", "QS")]["value"] == "50.00"
    assert rows[("community", "QS-MC1")]["unit_name"] == "青山县人民医院医共体"
    assert rows[("facility", "QS-T01")]["numerator"] == "2.00"
    assert rows[("facility", "QS-T01")]["unit_name"] == "东湖镇卫生院"
    assert [r["level"] for r in body["items"]][:3] == ["county", "community", "community"]
    day = api.get(
        "/indicators/tcm_prescription_share", period_kind="day", period="2026-11-02", level="county"
    ).json()
    assert [(r["unit_id"], r["value"]) for r in day["items"]] == [("QS", "60.00")]


def test_clinic_staff_see_their_facility_and_the_aggregates_above_it(api: Api) -> None:
    body = api.as_clinic(
        "QS-T01", "/indicators/tcm_prescription_share", {"period": "2026-11"}
    ).json()
    assert {(r["level"], r["unit_id"]) for r in body["items"]} == {
        ("county", "QS"),
        ("community", "QS-MC1"),
        ("facility", "QS-T01"),
    }
    refused = api.as_clinic("QS-T01", "/indicators/tcm_prescription_share", {"unit_id": "QS-T05"})
    assert refused.status_code == 403
    series = api.as_clinic(
        "QS-T01",
        "/indicators/tcm_prescription_share/series",
        {"level": "facility", "from": "2026-11", "to": "2026-11"},
    )
    assert series.status_code == 200
    assert [s["unit_id"] for s in series.json()["items"]] == ["QS-T01"]


def test_a_series_fills_every_period_of_the_range(api: Api) -> None:
    response = api.get(
        "/indicators/referrals_up/series",
        {"from": "2026-11-01", "to": "2026-11-04"},
        level="county",
        period_kind="day",
    )
    assert response.status_code == 200, response.text
    [county] = response.json()["items"]
    assert [(p["period"], p["value"]) for p in county["points"]] == [
        ("2026-11-01", "0"),
        ("2026-11-02", "2"),
        ("2026-11-03", "1"),
        ("2026-11-04", "0"),
    ]
    ratio = api.get(
        "/indicators/referral_down_up_ratio/series",
        {"from": "2026-11-01", "to": "2026-11-02"},
        level="county",
        period_kind="day",
    ).json()["items"][0]["points"]
    assert [p["value"] for p in ratio] == [None, "2.00"]  # no referral up on the 1st


def test_csv_exports(api: Api) -> None:
    export = api.get(
        "/indicators/tcm_prescription_share.csv",
        {"from": "2026-10", "to": "2026-11"},
        level="facility",
    )
    assert export.status_code == 200
    assert export.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert {r["unit_id"] for r in rows} == {"QS-T01", "QS-H01", "QS-T05"}
    t05 = [r for r in rows if r["unit_id"] == "QS-T05"]
    assert [(r["period"], r["numerator"], r["denominator"], r["value"]) for r in t05] == [
        ("2026-10", "0", "0", ""),
        ("2026-11", "1.00", "2.00", "50.00"),
    ]
    current = api.get("/indicators/referrals_down", period="2026-11", format="csv")
    lines = list(csv.DictReader(io.StringIO(current.text)))
    assert {(r["level"], r["unit_id"], r["value"]) for r in lines} >= {
        ("county", "QS", "4"),
        ("facility", "QS-H01", "3"),
    }
    series = api.get(
        "/indicators/referrals_down/series", {"from": "2026-11", "to": "2026-11"}, format="csv"
    )
    assert series.text.splitlines()[1].startswith("referrals_down,county,QS,QS,month,2026-11,4.00")


@pytest.mark.parametrize(
    ("path", "params", "status", "error"),
    [
        ("/indicators/no_such_thing", {}, 404, "not_found"),
        ("/indicators/tcm_prescription_share", {"period": "2026-13"}, 422, "invalid_period"),
        ("/indicators/tcm_prescription_share", {"period": "2026-11-02"}, 422, "invalid_period"),
        ("/indicators/in_county_visit_rate", {"level": "facility"}, 422, "level_not_defined"),
        (
            "/indicators/tcm_prescription_share/series",
            {"period_kind": "day", "from": "2025-01-01", "to": "2026-11-01"},
            422,
            "range_too_long",
        ),
        (
            "/indicators/tcm_prescription_share/series",
            {"from": "2026-12", "to": "2026-11"},
            422,
            "invalid_range",
        ),
        ("/indicators/tcm_prescription_share", {"level": "planet"}, 422, None),
    ],
)
def test_bad_requests_are_refused_clearly(
    api: Api, path: str, params: dict[str, str], status: int, error: str | None
) -> None:
    response = api.get(path, params)
    assert response.status_code == status, response.text
    if error:
        assert response.json()["error"] == error


def test_reading_needs_a_token_and_member_facilities_still_work(api: Api) -> None:
    assert api.client.get("/indicators").status_code == 401
    members = api.get("/indicators/member-facilities").json()
    assert {(m["community_id"], m["tier"], m["members"]) for m in members} >= {
        ("QS-MC1", "primary", 10),
        ("QS-MC2", "primary", 11),
    }


def test_the_prometheus_gauges_show_the_current_day_and_month(
    reporting: HandlerHarness, reporting_url: str, tmp_path: Path
) -> None:
    with serving(reporting_url, tmp_path) as api:
        gauges_agree_with_the_api(api, reporting)


def gauges_agree_with_the_api(api: Api, reporting: HandlerHarness) -> None:
    now = utc_now()
    reporting.apply(
        prescription("QS-T08", PrescriptionCategory.TCM_PATENT, now),
        prescription("QS-T08", PrescriptionCategory.WESTERN, now - timedelta(seconds=1)),
    )
    samples = {
        (s.labels["indicator"], s.labels["level"], s.labels["unit"], s.labels["period"]): s.value
        for family in api.process.registry.collect()
        if family.name == "reporting_indicator_value"
        for s in family.samples
    }
    for period in ("day", "month"):
        assert samples[("tcm_prescription_share", "facility", "QS-T08", period)] == 50.0
        # The same as the API says for the current period, at every level.
        current = api.get("/indicators/tcm_prescription_share", period_kind=period).json()
        for row in current["items"]:
            key = ("tcm_prescription_share", row["level"], row["unit_id"], period)
            assert samples[key] == float(row["value"])
    assert not [k for k in samples if k[3] not in ("day", "month")]
    text = generate_latest(api.process.registry).decode()
    assert 'reporting_member_facilities{community="QS-MC1",tier="primary"} 10.0' in text
