"""The shared TCM pharmacy's indicators (共享中药房): on-time delivery, failed deliveries,
orders past the SLA, dispatches and the wait for preparation, at the sending clinic, its
community and the county — through the real handlers on SQLite (a resend counts once)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from libs.events import CloudEvent, new_event
from libs.events.catalogue.quality import (
    HerbalDecoctionStarted,
    HerbalDeliveryFailed,
    HerbalDeliveryOverdue,
    HerbalOrderDelivered,
    HerbalOrderDispatched,
    HerbalOrderFees,
)
from services.reporting.domain.indicators import indicator
from tests.support.harness import HandlerHarness
from tests.support.reporting import event
from tests.unit.reporting.systems import harness_on
from tests.unit.reporting.test_recognition import cells

#: 09:00 on 2 November, county time.
NINE = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
DAY, MONTH = "2026-11-04", "2026-11"
FEES = HerbalOrderFees(
    preparation=Decimal("10.50"), decoction=Decimal("21.00"), delivery=Decimal("10.00"),
    total=Decimal("41.50"),
)  # fmt: skip


@pytest.fixture
def reporting(tmp_path: Path) -> Iterator[HandlerHarness]:
    yield from harness_on(tmp_path)


def ref(clinic: str, order: str) -> dict[str, str]:
    return {
        "order_id": order,
        "prescription_id": f"RX-{order}",
        "facility_id": clinic,
        "pharmacy_facility_id": "QS-H02",
    }


def delivered(clinic: str, order: str, after_hours: int, attempts: int = 1) -> CloudEvent[Any]:
    at = NINE + timedelta(hours=after_hours)
    return event(
        HerbalOrderDelivered(
            **ref(clinic, order), doses=7, fees=FEES, attempts=attempts, accepted_at=NINE,
            deliver_by=NINE + timedelta(hours=48), delivered_at=at,
            on_time=at <= NINE + timedelta(hours=48),
        )
    )  # fmt: skip


def values(harness: HandlerHarness, code: str, period: str = DAY) -> dict[str, Decimal | None]:
    ind = indicator(code)
    return {
        unit: ind.value(num, den)
        for (_level, unit, _kind, cell_period), (num, den) in cells(harness, code).items()
        if cell_period == period
    }


def test_on_time_delivery_is_the_share_delivered_within_the_sla(reporting: HandlerHarness) -> None:
    late = delivered("QS-T05", "HO-2", 50)
    reporting.apply(
        delivered("QS-T05", "HO-1", 47),
        late,
        delivered("QS-T06", "HO-3", 46, attempts=2),
        delivered("QS-T01", "HO-4", 44),
    )
    reporting.apply(new_event(late.data, source=late.source))  # a resend counts once
    assert values(reporting, "herbal_delivery_on_time_rate") == {
        "QS-T05": Decimal("50.00"),
        "QS-T06": Decimal("100.00"),
        "QS-T01": Decimal("100.00"),
        "QS-MC2": Decimal("66.67"),
        "QS-MC1": Decimal("100.00"),
        "QS": Decimal("75.00"),
    }
    assert values(reporting, "herbal_delivery_on_time_rate", MONTH)["QS"] == Decimal("75.00")


def test_failures_breaches_dispatches_and_the_wait_for_preparation(
    reporting: HandlerHarness,
) -> None:
    at = NINE + timedelta(hours=50)  # 4 November, county time
    reporting.apply(
        event(HerbalDecoctionStarted(**ref("QS-T05", "HO-1"), accepted_at=at - timedelta(hours=3),
                                     started_at=at, started_by="S-H02-001")),
        event(HerbalDecoctionStarted(**ref("QS-T05", "HO-2"), accepted_at=at - timedelta(hours=1),
                                     started_at=at, started_by="S-H02-001")),
        event(HerbalOrderDispatched(**ref("QS-T05", "HO-1"), attempt=1, dispatched_at=at,
                                    deliver_by=at)),
        event(HerbalOrderDispatched(**ref("QS-T05", "HO-1"), attempt=2, dispatched_at=at,
                                    deliver_by=at)),
        event(HerbalDeliveryFailed(**ref("QS-T05", "HO-1"), attempt=1, reason="nobody_home",
                                   retries_left=1, failed_at=at)),
        event(HerbalDeliveryOverdue(**ref("QS-T05", "HO-2"), state="decocting",
                                    accepted_at=NINE, deliver_by=at, detected_at=at)),
    )  # fmt: skip
    assert values(reporting, "herbal_preparation_hours")["QS-T05"] == Decimal("2.00")
    assert values(reporting, "herbal_dispatches")["QS-MC2"] == Decimal(2)
    assert values(reporting, "herbal_delivery_failures")["QS"] == Decimal(1)
    assert values(reporting, "herbal_delivery_sla_breaches")["QS-T05"] == Decimal(1)
