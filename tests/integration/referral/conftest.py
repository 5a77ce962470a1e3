"""One referral database per module and kind (SQLite, PostgreSQL), migrated and loaded with
the seed county and two drugs, shared by the module's tests (each uses its own patients,
departments or days). The admin API runs in-process on it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from libs.events.catalogue.values import FacilityTier
from libs.platform.auth import Role
from libs.platform.settings import PlatformSettings
from libs.platform.worker import ServiceProcess
from services.referral.bootstrap import compose
from services.referral.config import ReferralConfig
from services.referral.settings import Settings
from tests.support.databases import database_url
from tests.support.harness import HandlerHarness
from tests.support.referral import (
    PATIENT_DATA_KEYS,
    PSEUDONYM_SECRET,
    config,
    drug,
    event,
    seed_organisation,
)

#: Drugs on the catalogue copy: two any clinic may stock, one only hospitals may.
DRUGS = ("D-AMLODIPINE", "D-METFORMIN")
HOSPITAL_ONLY_DRUG = "D-ALTEPLASE"


@pytest.fixture(scope="module")
def referral_db(module_db_kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with database_url(module_db_kind, tmp_path_factory.mktemp("referral"), "referral") as url:
        yield url


@pytest.fixture(scope="module")
def harness(referral_db: str) -> Iterator[HandlerHarness]:
    running = HandlerHarness("referral", referral_db)
    running.apply(*seed_organisation())
    pharmacy = "/services/pharmacy"
    running.apply(
        *(event(drug(code), source=pharmacy) for code in DRUGS),
        event(
            drug(HOSPITAL_ONLY_DRUG, tiers=(FacilityTier.SECONDARY, FacilityTier.TERTIARY)),
            source=pharmacy,
        ),
    )
    yield running
    running.close()


@pytest.fixture(scope="module")
def cfg(tmp_path_factory: pytest.TempPathFactory) -> ReferralConfig:
    return config(tmp_path_factory.mktemp("data"))


@dataclass
class Api:
    """The referral admin app served in-process, with tokens per role and facility."""

    process: ServiceProcess
    client: TestClient

    def as_(self, role: Role = Role.COUNTY_ADMIN, facility: str | None = None) -> dict[str, str]:
        token = self.process.token_authority.mint(
            subject=f"{role.value}-{facility or 'county'}", role=role, facility_id=facility
        )
        return {"Authorization": f"Bearer {token}"}

    def clinic(self, facility: str) -> dict[str, str]:
        return self.as_(Role.CLINIC_STAFF, facility)

    def post(self, path: str, who: dict[str, str], body: Any = None) -> Any:
        return self.client.post(path, json=body, headers=who)

    def get(self, path: str, who: dict[str, str], **params: Any) -> Any:
        return self.client.get(path, params=params, headers=who)


@pytest.fixture(scope="module")
def api(
    harness: HandlerHarness, referral_db: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Api]:
    data_dir: Path = tmp_path_factory.mktemp("api")
    process = compose(
        PlatformSettings(pseudonym_secret=PSEUDONYM_SECRET, data_dir=data_dir),
        Settings(database_url=referral_db, patient_data_keys=PATIENT_DATA_KEYS),
    )
    with TestClient(process.admin_app(), raise_server_exceptions=False) as client:
        yield Api(process, client)
    process.database.dispose()
