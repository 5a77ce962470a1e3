"""Who may hold a drug, the seed formulary's shape, replenishment levels, expiry, policy."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from libs.events.catalogue.pharmacy import DrugSnapshot
from libs.events.catalogue.values import FacilityTier, FacilityType
from libs.platform.clock import CountyClock
from services.pharmacy.domain.expiry import LotAtRisk, classify
from services.pharmacy.domain.formulary import Drug, fingerprint, parse_formulary, refusal_for
from services.pharmacy.domain.policy import Policy, parse_policy
from services.pharmacy.domain.replenishment import (
    ReplenishmentPolicy,
    StockLevels,
    consumption_window_days,
    levels_from_consumption,
    quantity_to_request,
)

BASE = {
    "drug_code": "D1",
    "name": "左氧氟沙星片",
    "dosage_form": "片剂",
    "strength": "0.5g",
    "pack_size": 4,
    "unit": "盒",
    "unit_price": Decimal("9.6000"),
    "essential": True,
    "tcm": False,
}


def test_a_drug_needs_both_the_tier_and_the_kind_of_facility_allowed() -> None:
    drug = Drug(
        DrugSnapshot(
            **BASE,
            allowed_tiers=[FacilityTier.PRIMARY, FacilityTier.SECONDARY],
            allowed_facility_types=[FacilityType.TOWNSHIP_CENTRE, FacilityType.COUNTY_HOSPITAL],
        )
    )
    assert refusal_for(drug, FacilityTier.PRIMARY, FacilityType.TOWNSHIP_CENTRE) is None
    village = refusal_for(drug, FacilityTier.PRIMARY, FacilityType.VILLAGE_CLINIC)
    assert village is not None
    assert village.reason == "tier_not_allowed"
    assert "village_clinic" in village.detail
    tertiary = refusal_for(drug, FacilityTier.TERTIARY, FacilityType.COUNTY_HOSPITAL)
    assert tertiary is not None
    assert "tertiary" in tertiary.detail
    delisted = Drug(drug.snapshot, listed=False)
    refusal = refusal_for(delisted, FacilityTier.PRIMARY, FacilityType.TOWNSHIP_CENTRE)
    assert refusal is not None
    assert refusal.reason == "delisted"


def test_parsing_a_formulary_resolves_holder_sets_and_refuses_duplicates() -> None:
    doc = {
        "holders": {"no_village": ["county_hospital", "township_centre"]},
        "drugs": [
            {**BASE, "unit_price": "9.6", "holders": "no_village"},
            {**BASE, "drug_code": "D2", "unit_price": 1.1},
        ],
    }
    first, second = parse_formulary(doc)
    assert first.allowed_facility_types == [
        FacilityType.COUNTY_HOSPITAL,
        FacilityType.TOWNSHIP_CENTRE,
    ]
    assert second.allowed_facility_types == list(FacilityType)
    assert second.unit_price == Decimal("1.1")  # via str: never through a binary float
    assert fingerprint(first) == fingerprint(parse_formulary(doc)[0]) != fingerprint(second)
    with pytest.raises(ValueError, match="twice"):
        parse_formulary({"drugs": [BASE | {"unit_price": "1"}] * 2})
    with pytest.raises(ValueError, match="holders"):
        parse_formulary({"drugs": [BASE | {"unit_price": "1", "holders": "nobody"}]})


def test_levels_follow_average_monthly_consumption() -> None:
    policy = ReplenishmentPolicy()
    assert consumption_window_days(3, policy) == 30  # a new item: at least the minimum
    assert consumption_window_days(60, policy) == 60
    assert consumption_window_days(400, policy) == 90
    levels = levels_from_consumption(90, 90, policy)  # 30 a month
    assert (levels.average_monthly_consumption, levels.reorder_point, levels.target_level) == (
        Decimal("30.00"),
        30,
        90,
    )
    assert levels_from_consumption(0, 30, policy) == StockLevels(Decimal("0.00"), 0, 0)
    with pytest.raises(ValueError, match="target_months"):
        ReplenishmentPolicy(reorder_point_months=Decimal(3), target_months=Decimal(3))


def test_a_request_is_due_below_the_reorder_point_or_after_a_shortage() -> None:
    levels = StockLevels(Decimal(30), 30, 90)
    assert quantity_to_request(31, 0, levels) == 0
    assert quantity_to_request(30, 0, levels) == 60
    assert quantity_to_request(40, 5, levels) == 50  # a shortage: up to target
    nothing_consumed = StockLevels(Decimal(0), 0, 0)
    assert quantity_to_request(0, 0, nothing_consumed) == 0
    assert quantity_to_request(0, 7, nothing_consumed) == 7  # at least what was short


def test_expiry_splits_expired_and_near_expiry_lots_at_cost() -> None:
    today = date(2026, 11, 22)

    def at_risk(lot: str, days: int, quantity: int) -> LotAtRisk:
        return LotAtRisk("D1", lot, today + timedelta(days=days), quantity, Decimal("2.5050"))

    report = classify(
        [
            at_risk("GONE", -1, 4),
            at_risk("EDGE", 180, 3),
            at_risk("SAFE", 181, 9),
            at_risk("EMPTY", 5, 0),
        ],
        today,
        180,
    )
    assert [lot.lot_number for lot in report.expired] == ["GONE"]
    assert [lot.lot_number for lot in report.near_expiry] == ["EDGE"]
    assert report.expired_value == Decimal("10.02")  # 4 × 2.5050, half up
    assert report.near_expiry_value == Decimal("7.52")  # 7.515 → 7.52


def test_policy_defaults_and_the_county_calendar() -> None:
    policy = parse_policy({"expiry": {"near_expiry_days": 90}})
    assert policy.near_expiry_days == 90
    assert policy.write_off_expired is True
    # 17:00 UTC is already the next day in the county.
    assert CountyClock().date_of(datetime(2026, 11, 22, 17, 0, tzinfo=UTC)) == date(2026, 11, 23)
    # The zone is the platform's (COUNTY_TIMEZONE), not the pharmacy policy's any more.
    assert "timezone" not in {f.name for f in fields(Policy)}
    with pytest.raises(ValueError, match="COUNTY_TIMEZONE"):
        parse_policy({"timezone": "Asia/Urumqi"})
    with pytest.raises(ValueError, match="Mars/Olympus"):
        CountyClock.of("Mars/Olympus")
    with pytest.raises(ValueError, match="near_expiry_days"):
        Policy(near_expiry_days=0)
