"""The stock query in one round trip answers what the use cases' repositories answer.

``GET /stock/{facility}/drugs/{drug}`` reads everything in one statement
(services/pharmacy/api/stock_view.py); the reference here is the same body built the way
the endpoint did before, one repository call each (facility, drug, lots, reservations,
levels in force).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from libs.platform.auth import Role
from services.pharmacy.api.stock_view import drug_at_facility, drug_stock_body
from services.pharmacy.service_layer import stock
from services.pharmacy.service_layer.errors import NotFound
from services.pharmacy.service_layer.formulary import require_drug
from services.pharmacy.service_layer.replenishment import levels_for
from services.pharmacy.service_layer.unit_of_work import PharmacyUnitOfWork
from tests.integration.pharmacy.builders import TODAY, prescription


def _reference(uow: PharmacyUnitOfWork, facility_id: str, drug_code: str) -> dict[str, Any]:
    stock.require_facility(uow, facility_id)
    require_drug(uow, drug_code)
    lots = uow.stock.lots(facility_id, [drug_code])[drug_code]
    reserved = uow.stock.reserved(facility_id, drug_code)
    levels = levels_for(uow, facility_id, drug_code)
    return drug_stock_body(facility_id, drug_code, lots, reserved, levels, uow.today())


def _both(api: Any, facility_id: str, drug_code: str) -> tuple[Any, Any]:
    with api.process.unit_of_work() as uow:
        expected = _reference(uow, facility_id, drug_code)
    with api.process.unit_of_work() as uow:
        return drug_at_facility(uow, facility_id, drug_code), expected


def test_the_one_query_answers_as_the_repositories_do(world_and_api) -> None:
    world, api = world_and_api
    drug = world.drug("AMX", "2.5000")
    other = world.drug("MET", "3.9000")
    idle = world.drug("IDL", "1.0000")
    world.receive(world.township, drug, "LATE", 40, expires=TODAY + timedelta(days=400))
    world.receive(world.township, drug, "SOON", 30, expires=TODAY + timedelta(days=30), cost="2.1")
    world.receive(world.township, drug, "GONE", 5, expires=TODAY + timedelta(days=60))
    world.receive(world.township, other, "O1", 12)
    world.harness.apply(prescription(world.township, (drug, 36), (other, 2)))
    world.harness.apply(prescription(world.township, (drug, 3)))
    levels = f"/replenishment/{world.township}/levels/{other}"
    assert api.call("PUT", levels, json={"reorder_point": 2, "target_level": 10}).status_code == 204
    for code in (drug, other, idle):
        answer, expected = _both(api, world.township, code)
        assert answer == expected, code
    answer, _ = _both(api, world.township, drug)
    assert answer["on_hand"] == 36 and answer["levels"]["manual"] is False
    assert [lot["lot_number"] for lot in answer["lots"]] == ["LATE"]  # FEFO: the others used up
    assert _both(api, world.township, other)[0]["levels"]["manual"] is True
    assert _both(api, world.village, drug)[0]["lots"] == []  # stocked elsewhere only


def test_unknown_facility_and_drug_are_refused_as_before(world_and_api) -> None:
    world, api = world_and_api
    drug = world.drug("AMX")
    with api.process.unit_of_work() as uow, pytest.raises(NotFound, match="unknown_facility"):
        drug_at_facility(uow, "F-NOWHERE", drug)
    with api.process.unit_of_work() as uow, pytest.raises(NotFound, match="unknown_drug"):
        drug_at_facility(uow, world.township, "D-NONE")
    token = f"/stock/{world.township}/drugs/D-NONE"
    response = api.call("GET", token, Role.CLINIC_STAFF, world.township)
    assert (response.status_code, response.json()["error"]) == (404, "unknown_drug")
