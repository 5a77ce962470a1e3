"""The half-year member appraisal fund (绩效考核): a community's performance fund split among
its members by their approved scores, to the cent.

Each half-year the management committee approves every member's score (0–100). The
community's performance fund is ``share_of_special_fund`` of its half-year special fund; it
is split in proportion to the scores by the largest remainder (``performance.allocate``), so
the parts add up to the fund exactly and the same scores always give the same split. A
member scored 0 gets nothing; with no score above 0 nothing is paid and the fund stays in the
special fund.

The posting is the performance pay's (``performance.pay_lines``): the pool pays each member
out of the special fund (Dr 5303 绩效工资（专项资金） / Cr 1003 统筹资金存款 in the pool's
books) and the member owes it to its staff (Dr 1002 银行存款 / Cr 2215 应付绩效工资 in its own).
A correction (a later revision) first reverses the earlier revision's posting: the same
lines with debit and credit swapped (:func:`reversal_lines`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from services.finance.domain.journal import ZERO, Book, Line
from services.finance.domain.performance import allocate, fund_amount, pay_lines
from services.finance.domain.policy import MemberAppraisalPolicy

__all__ = ["MemberSplit", "reversal_lines", "split_fund"]


@dataclass(frozen=True)
class MemberSplit:
    """One community's appraisal fund for a half-year, split among its members by score."""

    community_id: str
    special_fund: Decimal
    share: Decimal
    fund: Decimal
    scores: Mapping[str, Decimal]
    amounts: Mapping[str, Decimal]

    @property
    def total(self) -> Decimal:
        """What is paid out: the fund, or nothing when no member scored above 0."""
        return sum(self.amounts.values(), ZERO)

    def lines(self) -> list[Line]:
        """The posting of the split (nothing when nobody is paid)."""
        paid = {Book(self.community_id, f): a for f, a in self.amounts.items() if a > 0}
        if not paid:
            return []
        return pay_lines(Book.pool(self.community_id), paid)

    def members(self) -> list[dict[str, str]]:
        """Each appraised member's score and amount (0 for a member who got nothing), in
        facility order, as the records and the read API keep them."""
        return [
            {
                "facility_id": facility,
                "score": str(score),
                "amount": str(self.amounts.get(facility, ZERO)),
            }
            for facility, score in sorted(self.scores.items())
        ]


def split_fund(
    community_id: str, scores: Mapping[str, Decimal], policy: MemberAppraisalPolicy
) -> MemberSplit | None:
    """Split ``community_id``'s performance fund for a half-year among its members by
    ``scores`` (per facility); ``None`` when the policy configures no fund for it."""
    special = policy.special_fund(community_id)
    if special is None:
        return None
    fund = fund_amount(special, policy.share_of_special_fund)
    amounts = allocate(fund, scores, order={facility: facility for facility in scores})
    return MemberSplit(
        community_id, special, policy.share_of_special_fund, fund, dict(scores), amounts
    )


def reversal_lines(lines: Iterable[Line]) -> list[Line]:
    """The mirror image of ``lines``: every line with its debit and credit swapped, so the
    two entries together leave every balance as it was."""
    return [Line(ln.book, ln.account, debit=ln.credit, credit=ln.debit) for ln in lines]
