"""The insurance bundle (医保打包支付): valuing visits, watching the pace of consumption,
monthly provisional payments, the year-end reconciliation, and their postings.

The pool's books carry the bundle: opening it makes the whole year's budget receivable from
the fund and unconsumed (2201); each claim consumes it — owed on to the member that gave the
care, or (out of the county) already paid by the fund to the outside hospital. What is left
in 2201 at year end is the surplus (or, as a debit, the overspend).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from libs.events.payload import cents
from services.finance.domain import accounts as acc
from services.finance.domain.journal import ZERO, Book, Line, cr, dr
from services.finance.domain.periods import calendar_share
from services.finance.domain.policy import BundlePolicy, ThresholdRule

__all__ = [
    "Forecast",
    "Reconciliation",
    "Valuation",
    "consumed_share",
    "final_payment",
    "forecast",
    "opening_lines",
    "provisional_payment",
    "provisional_settlement_lines",
    "reconcile",
    "reconciliation_lines",
    "thresholds_crossed",
    "value_visit",
    "visit_lines",
]

_SHARE = Decimal("0.000001")


@dataclass(frozen=True)
class Valuation:
    ratio: Decimal
    payout: Decimal
    copay: Decimal


def value_visit(eligible: Decimal, ratio: Decimal) -> Valuation:
    """The fund pays ``eligible × ratio`` rounded half up to the cent; the patient the rest."""
    payout = cents(eligible * ratio)
    return Valuation(ratio=ratio, payout=payout, copay=eligible - payout)


def visit_lines(
    *, facility: Book | None, pool: Book | None, total: Decimal, payout: Decimal
) -> list[Line]:
    """A visit's posting.

    At a member (``facility``): the visit's charges are revenue, owed by the patient except
    what the bundle pays, which the pool owes the member. Out of the county (no facility):
    the fund paid the outside hospital itself, out of what it owes the community.
    """
    lines: list[Line] = []
    if facility is not None:
        lines += [
            dr(facility, acc.DUE_FROM_POOL, payout),
            dr(facility, acc.PATIENT_RECEIVABLE, total - payout),
            cr(facility, acc.MEDICAL_REVENUE, total),
        ]
    if pool is not None and payout:
        counterpart = acc.POOL_DUE_TO_MEMBERS if facility is not None else acc.FUND_RECEIVABLE
        lines += [dr(pool, acc.BUNDLE_UNCONSUMED, payout), cr(pool, counterpart, payout)]
    return lines


def opening_lines(pool: Book, total: Decimal, prepayment: Decimal) -> list[Line]:
    """The year's budget becomes receivable and unconsumed; the prepayment arrives."""
    return [
        dr(pool, acc.FUND_RECEIVABLE, total),
        cr(pool, acc.BUNDLE_UNCONSUMED, total),
        dr(pool, acc.POOL_BANK, prepayment),
        cr(pool, acc.FUND_RECEIVABLE, prepayment),
    ]


def consumed_share(consumed: Decimal, total: Decimal) -> Decimal:
    """Consumed ÷ total, to six places, capped at 1 (an empty budget counts as used up)."""
    if total <= 0:
        return Decimal(1) if consumed > 0 else Decimal(0)
    return min(Decimal(1), (consumed / total).quantize(_SHARE))


def thresholds_crossed(
    rules: list[ThresholdRule],
    *,
    total: Decimal,
    consumed: Decimal,
    month: int,
    already: set[str],
) -> list[ThresholdRule]:
    """Rules newly crossed: the share is reached while it is still month ``by_month`` or earlier.

    Compared exactly (consumed ≥ share × total), not through the rounded share.
    """
    return [
        rule
        for rule in rules
        if rule.key not in already and month <= rule.by_month and consumed >= rule.share * total
    ]


def provisional_payment(
    *,
    total: Decimal,
    prepaid: Decimal,
    paid_provisional: Decimal,
    in_county_consumed: Decimal,
    out_of_county_consumed: Decimal,
    withholding: Decimal,
) -> Decimal:
    """What the fund pays now: the in-county claims to date less the withheld share, less
    what it already paid (the prepayment included); never beyond the budget before the
    year-end reconciliation."""
    due = cents(in_county_consumed * (Decimal(1) - withholding))
    paid = prepaid + paid_provisional
    cap = total - out_of_county_consumed - paid
    return max(ZERO, min(due - paid, cap))


def provisional_settlement_lines(
    pool: Book, payment: Decimal, member_payments: dict[Book, Decimal]
) -> list[Line]:
    """The fund pays the pool; the pool pays each member its claims of the period."""
    lines = [dr(pool, acc.POOL_BANK, payment), cr(pool, acc.FUND_RECEIVABLE, payment)]
    for member, amount in sorted(member_payments.items(), key=lambda kv: kv[0].sort_key):
        lines += [
            dr(pool, acc.POOL_DUE_TO_MEMBERS, amount),
            cr(pool, acc.POOL_BANK, amount),
            dr(member, acc.BANK, amount),
            cr(member, acc.DUE_FROM_POOL, amount),
        ]
    return lines


@dataclass(frozen=True)
class Reconciliation:
    total: Decimal
    consumed: Decimal
    surplus_kept: Decimal
    surplus_returned: Decimal
    overspend: Decimal
    borne_by_community: Decimal
    borne_by_fund: Decimal

    def record(self, final_payment: Decimal) -> dict[str, str]:
        """The reconciliation as the budget keeps it, with the final payment it led to."""
        return {
            "surplus_kept": str(self.surplus_kept),
            "surplus_returned": str(self.surplus_returned),
            "overspend": str(self.overspend),
            "borne_by_community": str(self.borne_by_community),
            "borne_by_fund": str(self.borne_by_fund),
            "final_payment": str(final_payment),
        }


def reconcile(total: Decimal, consumed: Decimal, policy: BundlePolicy) -> Reconciliation:
    """Year end: keep the surplus (结余留用) or share the overspend by bands (合理超支分担)."""
    if consumed <= total:
        surplus = total - consumed
        kept = cents(surplus * policy.surplus_kept)
        return Reconciliation(total, consumed, kept, surplus - kept, ZERO, ZERO, ZERO)
    overspend = consumed - total
    borne = Decimal(0)
    remaining, lower = overspend, ZERO
    for band in policy.overspend_sharing:
        upper = None if band.up_to is None else cents(total * band.up_to)
        portion = remaining if upper is None else min(remaining, max(ZERO, upper - lower))
        borne += portion * band.borne_by_community
        remaining -= portion
        if upper is not None:
            lower = upper
    community = cents(borne)
    return Reconciliation(total, consumed, ZERO, ZERO, overspend, community, overspend - community)


def final_payment(
    recon: Reconciliation,
    *,
    prepaid: Decimal,
    paid_provisional: Decimal,
    out_of_county_consumed: Decimal,
) -> Decimal:
    """What the fund still owes the community (negative: the community refunds it): the
    budget, less care outside the county it paid directly, less what it paid already, less
    a returned surplus, plus its share of an overspend."""
    return (
        recon.total
        - out_of_county_consumed
        - prepaid
        - paid_provisional
        - recon.surplus_returned
        + recon.borne_by_fund
    )


def reconciliation_lines(pool: Book, recon: Reconciliation) -> list[Line]:
    """Clear the unconsumed bundle into the surplus kept (and returned) or the overspend
    borne; the fund's final payment follows as a settlement."""
    surplus = recon.surplus_kept + recon.surplus_returned
    return [
        dr(pool, acc.BUNDLE_UNCONSUMED, surplus),
        cr(pool, acc.SURPLUS_KEPT, recon.surplus_kept),
        cr(pool, acc.FUND_RECEIVABLE, recon.surplus_returned),
        dr(pool, acc.OVERSPEND_BORNE, recon.borne_by_community),
        dr(pool, acc.FUND_RECEIVABLE, recon.borne_by_fund),
        cr(pool, acc.BUNDLE_UNCONSUMED, recon.overspend),
    ]


@dataclass(frozen=True)
class Forecast:
    as_of: date
    calendar_share: Decimal
    consumed_share: Decimal
    projected_consumption: Decimal
    projected_surplus: Decimal
    """Budget less projected consumption; negative is a projected overspend."""


def forecast(total: Decimal, consumed: Decimal, year: int, as_of: date) -> Forecast:
    """A straight-line projection of the year's consumption from the pace so far."""
    if as_of.year < year:
        elapsed = Decimal(0)
    elif as_of.year > year:
        elapsed = Decimal(1)
    else:
        elapsed = calendar_share(as_of)
    projected = consumed if elapsed == 0 else cents(consumed / elapsed)
    return Forecast(
        as_of=as_of,
        calendar_share=elapsed,
        consumed_share=consumed_share(consumed, total),
        projected_consumption=projected,
        projected_surplus=total - projected,
    )
