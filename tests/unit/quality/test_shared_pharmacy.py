"""The shared TCM pharmacy's rules (共享中药房), without a database: the county's file, the
fees to the fen, the order's lifecycle and its delivery SLA."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import yaml

from libs.platform.settings import REPO_ROOT
from services.quality.domain.shared_pharmacy import (
    HerbalOrder,
    InvalidStep,
    OrderState,
    Tariff,
    fees_for,
    parse_shared_pharmacy,
)

D = Decimal
ACCEPTED = datetime(2026, 11, 2, 1, tzinfo=UTC)
TARIFF = Tariff(D("1.50"), D("3.00"), D("10.00"))


def county_file() -> dict[str, Any]:
    text = (REPO_ROOT / "infra/quality/shared-pharmacy.yaml").read_text("utf-8")
    document: dict[str, Any] = yaml.safe_load(text)
    return document


def order(*, decoct: bool = True, retries: int = 2) -> HerbalOrder:
    return HerbalOrder(
        "HO-1", OrderState.ACCEPTED, decoct, 0, retries, ACCEPTED + timedelta(hours=48)
    )


def test_the_countys_file_names_the_tcm_hospital_its_fees_and_sla() -> None:
    config = parse_shared_pharmacy(county_file())
    assert config.pharmacy_facility_id == "QS-H02"
    assert config.may_send("QS-T05") and config.may_send("QS-H02")  # its own outpatients
    assert not config.may_send("QS-H01")
    assert config.tariff == TARIFF
    assert config.delivery_sla == timedelta(hours=48)
    assert config.retries == 2


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {
                "fees": {
                    "preparation_per_dose": 1.5,
                    "decoction_per_dose": "3",
                    "delivery_per_order": "1",
                }
            },
            "in quotes",
        ),
        (
            {
                "fees": {
                    "preparation_per_dose": "1.505",
                    "decoction_per_dose": "3",
                    "delivery_per_order": "1",
                }
            },
            "to the fen",
        ),
        (
            {"fees": {"preparation_per_dose": "1", "decoction": "3", "delivery_per_order": "1"}},
            "unknown key",
        ),
        ({"delivery_sla_hours": 0}, "delivery_sla_hours"),
        ({"delivery_retries": 9}, "delivery_retries"),
        ({"senders": "QS-T01"}, "senders"),
        ({"pharmacy_facility_id": None}, "pharmacy_facility_id"),
        ({"sla": 48}, "unknown key"),
    ],
)
def test_a_wrong_file_is_refused_saying_where(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_shared_pharmacy(county_file() | change)


def test_a_fraction_of_an_hour_is_an_sla_tests_can_wait_for() -> None:
    config = parse_shared_pharmacy(county_file() | {"delivery_sla_hours": "0.01"})
    assert config.delivery_sla == timedelta(seconds=36)


def test_fees_are_per_dose_and_per_order_to_the_fen() -> None:
    fees = fees_for(TARIFF, 7, decoct=True, deliver_home=True)
    assert (fees.preparation, fees.decoction, fees.delivery) == (D("10.50"), D("21.00"), D("10.00"))
    assert fees.total == D("41.50")
    odd = fees_for(Tariff(D("0.35"), D("1.15"), D("8.80")), 3, decoct=True, deliver_home=True)
    assert odd.total == D("13.30")  # 1.05 + 3.45 + 8.80, exact


def test_nothing_is_charged_for_a_step_not_asked_for() -> None:
    fees = fees_for(TARIFF, 5, decoct=False, deliver_home=False)
    assert (fees.preparation, fees.decoction, fees.delivery, fees.total) == (
        D("7.50"),
        D("0.00"),
        D("0.00"),
        D("7.50"),
    )


def test_an_order_is_decocted_dispatched_and_delivered_on_time() -> None:
    o = order()
    o.start_decoction()
    assert o.dispatch() == 1
    assert o.deliver(ACCEPTED + timedelta(hours=30)) is True
    assert o.state is OrderState.DELIVERED


def test_a_delivery_after_the_sla_is_late_and_at_the_sla_on_time() -> None:
    late, exact = order(), order()
    for o in (late, exact):
        o.start_decoction()
        o.dispatch()
    assert late.deliver(ACCEPTED + timedelta(hours=48, seconds=1)) is False
    assert exact.deliver(ACCEPTED + timedelta(hours=48)) is True


def test_a_failed_delivery_is_dispatched_again_while_retries_are_left() -> None:
    o = order(retries=1)
    o.start_decoction()
    o.dispatch()
    assert o.fail_delivery() == 1
    assert o.dispatch() == 2
    assert o.fail_delivery() == 0
    with pytest.raises(InvalidStep) as refused:
        o.dispatch()
    assert (refused.value.code, refused.value.state) == (
        "no_retries_left",
        OrderState.DELIVERY_FAILED,
    )


@pytest.mark.parametrize(
    ("steps", "step"),
    [
        ([], "dispatch"),  # not decocted yet
        ([], "deliver"),
        ([], "fail_delivery"),
        (["start_decoction"], "start_decoction"),  # twice
        (["start_decoction", "dispatch"], "start_decoction"),
        (["start_decoction", "dispatch", "deliver"], "dispatch"),  # delivered is final
        (["start_decoction", "dispatch", "deliver"], "fail_delivery"),
    ],
)
def test_a_step_out_of_order_is_refused_with_the_state(steps: list[str], step: str) -> None:
    o = order()
    for taken in steps:
        getattr(o, taken)(*([ACCEPTED] if taken == "deliver" else []))
    before = o.state
    with pytest.raises(InvalidStep) as refused:
        getattr(o, step)(*([ACCEPTED] if step == "deliver" else []))
    assert refused.value.state is before and o.state is before


def test_pieces_not_decocted_go_straight_to_dispatch() -> None:
    o = order(decoct=False)
    with pytest.raises(InvalidStep, match="not decocted"):
        o.start_decoction()
    assert o.dispatch() == 1
