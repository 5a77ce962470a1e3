"""The seed formulary and the opening stock from ``infra/pharmacy/``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal

import pytest
import yaml

from libs.events.catalogue.values import FacilityType
from libs.platform.settings import REPO_ROOT
from services.pharmacy.adapters.schema import DrugRow
from services.pharmacy.domain.formulary import parse_formulary
from services.pharmacy.domain.policy import Policy, parse_policy
from services.pharmacy.service_layer.formulary import sync_seed, update_drug
from services.pharmacy.service_layer.opening_stock import (
    apply_opening_stock,
    parse_opening_stock,
)
from tests.integration.pharmacy.builders import World, lots, pharmacy, snapshot, uow, uows
from tests.support.harness import HandlerHarness

INFRA = REPO_ROOT / "infra" / "pharmacy"


def _load(name: str) -> dict:
    return yaml.safe_load((INFRA / name).read_text(encoding="utf-8"))


@pytest.fixture
def harness(make_database: Callable[[str], str]) -> Iterator[HandlerHarness]:
    running = pharmacy(make_database("pharmacy"))
    yield running
    running.close()


def test_the_seed_formulary_is_realistic() -> None:
    drugs = parse_formulary(_load("formulary.yaml"))
    assert len(drugs) >= 40
    assert any(d.tcm for d in drugs)
    assert any(d.essential for d in drugs)
    assert any(d.category == "consumable" for d in drugs)
    not_village = [d for d in drugs if FacilityType.VILLAGE_CLINIC not in d.allowed_facility_types]
    assert len(not_village) >= 5
    assert all(
        d.unit_price > 0 and d.unit_price == d.unit_price.quantize(Decimal("0.0001")) for d in drugs
    )
    assert parse_policy(_load("policy.yaml")) == Policy()  # the file states the defaults


def test_the_seed_is_listed_once_and_then_the_admin_api_is_the_authority(
    harness: HandlerHarness,
) -> None:
    seed = [snapshot("S-1", "1.0000"), snapshot("S-2", "2.0000")]
    assert sync_seed(uow(harness), seed) == ["S-1", "S-2"]
    assert sync_seed(uow(harness), seed) == []  # a restart publishes nothing
    # A price changed over HTTP survives a restart with the same seed...
    update_drug(uow(harness), snapshot("S-1", "1.5000"))
    assert sync_seed(uow(harness), seed) == []
    with harness.database.sessions() as session:
        row = session.get(DrugRow, "S-1")
        assert row is not None
        assert row.unit_price == Decimal("1.5000")
    # ...and an edited seed entry is applied, once.
    edited = [snapshot("S-1", "1.2000"), seed[1], snapshot("S-3", "3.0000")]
    assert sync_seed(uow(harness), edited) == ["S-1", "S-3"]
    assert sync_seed(uow(harness), edited) == []
    types = [e.type.rsplit(".", 2)[1] for e in harness.published()]
    assert types == ["listed", "listed", "updated", "updated", "listed"]


def test_opening_stock_is_booked_once_each_facility_is_known(harness: HandlerHarness) -> None:
    sync_seed(uow(harness), parse_formulary(_load("formulary.yaml")))
    opening = parse_opening_stock(_load("opening-stock.yaml"))
    waiting = apply_opening_stock(uows(harness), opening)
    assert waiting == len(opening)  # no facility known yet

    world = World(harness, tag="QS")
    world.community, world.hospital, world.township = "QS-MC1", "QS-H01", "QS-T01"
    world.village = "QS-V01"
    world.organisation()
    waiting = apply_opening_stock(uows(harness), opening)
    booked_here = {"QS-H01", "QS-T01", "QS-V01"}
    assert waiting == sum(1 for lot in opening if lot.facility_id not in booked_here)
    assert lots(harness, "QS-T01", "QSY-W011") == {"AML2403B": 20, "AML2411A": 40}
    before = len(harness.published())
    apply_opening_stock(uows(harness), opening)
    assert len(harness.published()) == before  # booked once
    received = harness.published("pharmacy.stock.received.v1")
    assert {e.data.source for e in received} == {"opening_balance"}
