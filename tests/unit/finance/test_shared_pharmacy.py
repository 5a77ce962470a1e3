"""The shared TCM pharmacy's fee (共享中药房): the sending clinic owes the TCM hospital its
order's preparation, decoction and delivery, once per order, through an in-memory unit of
work (no database)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from libs.events.catalogue.finance import EntryType, JournalEntryPosted, SettlementKind
from libs.events.catalogue.quality import HerbalOrderDelivered, HerbalOrderFees
from libs.events.retry import NotYetKnown
from services.finance.domain import accounts as acc
from services.finance.service_layer.shared_pharmacy import settle_order
from tests.support.finance import COUNTY_CLOCK, finance_policy, uid
from tests.unit.finance.fakes import FakeFinanceRecords, FakeUnitOfWork, member

D = Decimal
ACCEPTED = datetime(2026, 3, 10, 2, tzinfo=UTC)


def delivered(clinic: str = "QS-T05", *, order_id: str | None = None) -> HerbalOrderDelivered:
    return HerbalOrderDelivered(
        order_id=order_id or uid("HO"),
        prescription_id=uid("RX"),
        facility_id=clinic,
        pharmacy_facility_id="QS-H02",
        doses=7,
        fees=HerbalOrderFees(
            preparation=D("10.50"), decoction=D("21.00"), delivery=D("10.00"), total=D("41.50")
        ),
        attempts=1,
        accepted_at=ACCEPTED,
        deliver_by=datetime(2026, 3, 12, 2, tzinfo=UTC),
        delivered_at=datetime(2026, 3, 11, 6, tzinfo=UTC),
        on_time=True,
    )


def unit_of_work() -> FakeUnitOfWork:
    records = FakeFinanceRecords(
        [member("QS-T05", "QS-MC2"), member("QS-H02", "QS-MC2", "secondary")]
    )
    return FakeUnitOfWork(finance_policy(), COUNTY_CLOCK, records)


def test_the_clinic_owes_the_tcm_hospital_the_orders_fee_once_to_the_fen() -> None:
    uow = unit_of_work()
    order = delivered()
    with uow:
        settle_order(order, uow)
        settle_order(order, uow)  # the same order again, e.g. under a new event id
    records = uow.fake_records
    assert records.balance("QS-T05", acc.INTERNAL_FEES_PAID) == D("41.50")
    assert records.balance("QS-T05", acc.DUE_TO_MEMBERS) == D("-41.50")
    assert records.balance("QS-H02", acc.DUE_FROM_MEMBERS) == D("41.50")
    assert records.balance("QS-H02", acc.INTERNAL_FEES_EARNED) == D("-41.50")
    (entry, _), *more = records.entries
    assert not more
    assert (entry.entry_type, entry.period) == ("shared_pharmacy_fee", "2026-03")
    assert entry.source_key == f"herbal_order:{order.order_id}"
    (charge,) = records.charges
    assert (charge.kind, charge.payer_facility_id, charge.payee_facility_id, charge.amount) == (
        SettlementKind.SHARED_PHARMACY_FEE.value,
        "QS-T05",
        "QS-H02",
        D("41.50"),
    )
    (announced,) = uow.of_type(JournalEntryPosted)
    assert announced.entry_type is EntryType.SHARED_PHARMACY_FEE


def test_the_tcm_hospitals_own_prescription_owes_nothing() -> None:
    uow = unit_of_work()
    with uow:
        settle_order(delivered("QS-H02"), uow)
    assert uow.fake_records.entries == [] and uow.fake_records.charges == []


def test_a_clinic_not_known_yet_waits() -> None:
    uow = unit_of_work()
    with uow, pytest.raises(NotYetKnown):
        settle_order(delivered("QS-T99"), uow)
