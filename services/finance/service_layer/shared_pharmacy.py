"""The shared TCM pharmacy's fee (共享中药房): a member clinic pays the TCM hospital for
preparing, decocting and delivering its patient's herbal order.

When the order is delivered (``quality.herbal_order.delivered.v1``) the fee quality priced at
acceptance — preparation and decoction per dose, delivery per order — is an internal fee:
an expense of the sending clinic owed to the TCM hospital (Dr 内部服务费支出 / Cr 应付成员单位
in the clinic's books, Dr 应收成员单位 / Cr 内部服务费收入 in the hospital's), and an internal
charge the next settlement run pays. The herbs themselves are the TCM hospital's drug revenue,
booked when pharmacy issued them from its stock.

Each order is settled once: a second copy (even under another event id) finds its charge by
the order's source key and books nothing.
"""

from __future__ import annotations

from libs.events.catalogue.finance import EntryType, SettlementKind
from libs.events.catalogue.quality import HerbalOrderDelivered
from services.finance.adapters.schema import InternalCharge
from services.finance.domain import postings
from services.finance.domain.journal import draft
from services.finance.domain.periods import period_of
from services.finance.service_layer.ledger import entry_exists, post, posting_period
from services.finance.service_layer.unit_of_work import FinanceUnitOfWork

__all__ = ["order_key", "settle_order"]


def order_key(order_id: str) -> str:
    """The cause's source key: the order (its business identity)."""
    return f"herbal_order:{order_id}"


def settle_order(delivered: HerbalOrderDelivered, uow: FinanceUnitOfWork) -> None:
    """Post the order's fee from the sending clinic to the shared pharmacy, once per order;
    a facility that is not a member is refused as for any posting (``unknown_facility``)."""
    key = order_key(delivered.order_id)
    if entry_exists(uow, key):
        return  # the same order delivered again: settled once
    clinic, pharmacy = uow.member(delivered.facility_id), uow.member(delivered.pharmacy_facility_id)
    fee = delivered.fees.total
    if clinic == pharmacy or fee <= 0:
        return  # the hospital's own prescription, or nothing charged: nothing owed
    entry = draft(
        EntryType.SHARED_PHARMACY_FEE,
        f"Shared TCM pharmacy order {delivered.order_id} (prescription "
        f"{delivered.prescription_id}) of {delivered.facility_id}: {delivered.doses} doses "
        f"prepared {delivered.fees.preparation}, decocted {delivered.fees.decoction}, "
        f"delivered {delivered.fees.delivery}",
        postings.internal_fee_lines(clinic, pharmacy, fee),
    )
    if entry is None:
        return
    at = posting_period(uow, period_of(delivered.delivered_at, uow.clock))
    post(uow, entry, at, occurred_at=delivered.delivered_at, source_key=key)
    uow.records.add_charges(
        [
            InternalCharge(
                source_key=key,
                kind=SettlementKind.SHARED_PHARMACY_FEE.value,
                period=at.period,
                payer_facility_id=delivered.facility_id,
                payee_facility_id=delivered.pharmacy_facility_id,
                amount=fee,
                occurred_at=delivered.delivered_at,
            )
        ]
    )
