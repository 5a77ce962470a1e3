"""The shared TCM pharmacy's fee (共享中药房) in the books, on SQLite and PostgreSQL: a
delivered order's preparation, decoction and delivery, owed by the sending clinic to the TCM
hospital once (redelivered, or resent under a new event id), to the fen, and an internal
charge the settlement run pays."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from libs.events.catalogue.quality import HerbalOrderDelivered, HerbalOrderFees
from services.finance.adapters.schema import InternalCharge
from services.finance.domain import accounts as acc
from tests.support.finance import balance, totals_by_book, uid
from tests.support.harness import HandlerHarness, event_of

DELIVERED_AT = datetime(2026, 5, 20, 3, tzinfo=UTC)


def delivered(clinic: str, fees: tuple[str, str, str]) -> HerbalOrderDelivered:
    preparation, decoction, delivery = (Decimal(f) for f in fees)
    return HerbalOrderDelivered(
        order_id=uid("HO"),
        prescription_id=uid("RX"),
        facility_id=clinic,
        pharmacy_facility_id="QS-H02",
        doses=7,
        fees=HerbalOrderFees(
            preparation=preparation,
            decoction=decoction,
            delivery=delivery,
            total=preparation + decoction + delivery,
        ),
        attempts=1,
        accepted_at=DELIVERED_AT - timedelta(hours=20),
        deliver_by=DELIVERED_AT + timedelta(hours=28),
        delivered_at=DELIVERED_AT,
        on_time=True,
    )


def test_a_delivered_order_is_settled_once_from_the_clinic_to_the_tcm_hospital(
    finance: HandlerHarness,
) -> None:
    order = delivered("QS-T05", ("10.50", "21.00", "10.00"))
    first = event_of(order)
    results = [
        finance.apply(first, first),  # redelivered under the same event id
        finance.apply(event_of(order)),  # resent under a new event id
        finance.apply(event_of(delivered("QS-C04", ("4.50", "0.00", "10.00")))),
    ]
    assert not any(r.dead_lettered for r in results)

    assert balance(finance, acc.INTERNAL_FEES_PAID, facility_id="QS-T05") == Decimal("41.50")
    assert balance(finance, acc.INTERNAL_FEES_PAID, facility_id="QS-C04") == Decimal("14.50")
    assert balance(finance, acc.INTERNAL_FEES_EARNED, facility_id="QS-H02") == Decimal("-56.00")
    assert balance(finance, acc.DUE_FROM_MEMBERS, facility_id="QS-H02") == Decimal("56.00")
    assert all(total == 0 for total in totals_by_book(finance).values())
    with finance.database.sessions() as session:
        charges = session.scalars(
            select(InternalCharge).where(InternalCharge.kind == "shared_pharmacy_fee")
        ).all()
    assert sorted((c.payer_facility_id, c.amount, c.period) for c in charges) == [
        ("QS-C04", Decimal("14.50"), "2026-05"),
        ("QS-T05", Decimal("41.50"), "2026-05"),
    ]
