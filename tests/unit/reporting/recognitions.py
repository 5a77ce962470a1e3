"""Source events of the county's result recognition (quality) for the reporting tests: an
ordered test or examination whose earlier result was recognised, or not and why."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from libs.events import CloudEvent
from libs.events.catalogue.quality import (
    NotRecognisedReason,
    ResultNotRecognised,
    ResultRecognised,
)
from tests.support.reporting import event

NO_EARLIER = NotRecognisedReason.NO_EARLIER_RESULT
OUTSIDE_WINDOW = NotRecognisedReason.OUTSIDE_WINDOW
NOT_ACCREDITED = NotRecognisedReason.NOT_ACCREDITED
ITEM_NOT_RECOGNISED = NotRecognisedReason.ITEM_NOT_RECOGNISED


def recognised(
    facility_id: str, order_id: str, at: datetime, cost: str, *, test_code: str = "CBC"
) -> CloudEvent[Any]:
    """The order's earlier result (at QS-H01, ten days before) recognised: ``cost`` avoided."""
    return event(
        ResultRecognised(
            order_id=order_id,
            facility_id=facility_id,
            test_code=test_code,
            earlier_result_id=f"R-{order_id}",
            earlier_facility_id="QS-H01",
            earlier_reported_at=at - timedelta(days=10),
            window_days=30,
            avoided_cost=Decimal(cost),
            decided_at=at,
        )
    )


def not_recognised(
    facility_id: str,
    order_id: str,
    at: datetime,
    reason: NotRecognisedReason,
    *,
    test_code: str = "CBC",
) -> CloudEvent[Any]:
    return event(
        ResultNotRecognised(
            order_id=order_id,
            facility_id=facility_id,
            test_code=test_code,
            reason=reason,
            decided_at=at,
        )
    )
