"""Result recognition (检查检验结果互认): a repeat test avoided, its price booked as a saving.

Quality recognises an earlier result for an ordered test, so the repeat is not done and its
price not spent. That is no cash, no revenue and no claim on the bundle (the visit's charges
and claims already leave it out), so it goes to memorandum accounts (备查) in the ordering
member's books: Dr 9001 互认节约费用 / Cr 9002 医保基金及患者节约备查, the item's price to the
cent. The member's, the community's and the county's trial balances add it up.

Each order is booked once: a second copy (even under another event id) finds the entry by
its source key and books nothing.
"""

from __future__ import annotations

from libs.events.catalogue.finance import EntryType
from libs.events.catalogue.quality import ResultRecognised
from libs.events.payload import cents
from services.finance.domain import postings
from services.finance.domain.journal import draft
from services.finance.domain.periods import period_of
from services.finance.service_layer.ledger import entry_exists, post, posting_period
from services.finance.service_layer.unit_of_work import FinanceUnitOfWork

__all__ = ["recognition_key", "record_recognition"]


def recognition_key(recognised: ResultRecognised) -> str:
    """The cause's source key: the event's identity (ordering facility, order)."""
    return f"recognition:{recognised.facility_id}/{recognised.order_id}"


def record_recognition(recognised: ResultRecognised, uow: FinanceUnitOfWork) -> None:
    """Book the avoided cost of a recognised result in the ordering member's memorandum
    accounts, once per order; a facility that is not a member is refused as for any posting
    (``unknown_facility``)."""
    key = recognition_key(recognised)
    if entry_exists(uow, key):
        return  # the same order recognised again: booked once
    member = uow.member(recognised.facility_id)
    entry = draft(
        EntryType.RECOGNITION_SAVING,
        f"Result recognised for order {recognised.order_id} at {recognised.facility_id}: "
        f"{recognised.test_code} of {recognised.earlier_facility_id} "
        f"({recognised.earlier_result_id}) stands in, the repeat avoided",
        postings.recognition_saving_lines(member, cents(recognised.avoided_cost)),
    )
    if entry is None:
        return  # an item without a price saves nothing to book
    at = posting_period(uow, period_of(recognised.decided_at, uow.clock))
    post(uow, entry, at, occurred_at=recognised.decided_at, source_key=key)
