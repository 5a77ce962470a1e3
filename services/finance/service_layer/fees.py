"""Referrals and expert sessions: internal fees by the tariff, and appraisal points.

Referral events name facilities, not clinicians: a referral's points go to the referring
and the receiving facility's teams. A session's points go to the expert, in the community
of the expert's home facility.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import select

from libs.events.catalogue.finance import EntryType, SettlementKind
from libs.events.catalogue.referral import ReferralCompleted
from libs.events.catalogue.staffing import SessionDelivered
from services.finance.adapters.schema import AppraisalPoints, InternalCharge
from services.finance.domain import performance, postings
from services.finance.domain.journal import Book, draft
from services.finance.domain.periods import period_of
from services.finance.service_layer.ledger import PostingPeriod, post, posting_period
from services.finance.service_layer.unit_of_work import FinanceUnitOfWork

__all__ = ["record_referral", "record_session"]


def _seen(uow: FinanceUnitOfWork, key: str) -> bool:
    charged = select(InternalCharge.id).where(InternalCharge.source_key == key)
    pointed = select(AppraisalPoints.id).where(AppraisalPoints.source_key == key)
    return (
        uow.session.execute(charged).first() is not None
        or uow.session.execute(pointed).first() is not None
    )


def _charge(
    uow: FinanceUnitOfWork,
    key: str,
    kind: SettlementKind,
    payer: Book,
    payee: Book,
    fee: Decimal,
    at: PostingPeriod,
    occurred_at: datetime,
    memo: str,
) -> None:
    """Post an internal fee and record it for the next settlement run."""
    if payer == payee or fee <= 0:
        return
    entry_type = (
        EntryType.REFERRAL_FEE if kind is SettlementKind.REFERRAL_FEE else EntryType.SESSION_FEE
    )
    entry = draft(entry_type, memo, postings.internal_fee_lines(payer, payee, fee))
    if entry is None:
        return
    post(uow, entry, at, occurred_at=occurred_at, source_key=key)
    uow.session.add(
        InternalCharge(
            source_key=key,
            kind=kind.value,
            period=at.period,
            payer_facility_id=str(payer.facility_id),
            payee_facility_id=str(payee.facility_id),
            amount=fee,
            occurred_at=occurred_at,
        )
    )


def _points(
    uow: FinanceUnitOfWork, key: str, staff_id: str, member: Book, points: Decimal, period: str
) -> None:
    if points > 0:
        uow.session.add(
            AppraisalPoints(
                source_key=key,
                community_id=member.community_id,
                period=period,
                staff_id=staff_id,
                facility_id=str(member.facility_id),
                points=points,
            )
        )


def record_referral(ref: ReferralCompleted, uow: FinanceUnitOfWork) -> None:
    """A completed referral: the internal fee of its direction and priority, and points for
    both facilities' teams."""
    policy = uow.policy
    key = f"referral:{ref.referral_id}"
    if _seen(uow, key):
        return
    referring, receiving = uow.member(ref.from_facility_id), uow.member(ref.to_facility_id)
    at = posting_period(uow, period_of(ref.completed_at, uow.clock))
    rule = policy.tariff.referral_fees[ref.direction]
    payer, payee = (receiving, referring) if rule.payer == "to_facility" else (referring, receiving)
    _charge(
        uow,
        key,
        SettlementKind.REFERRAL_FEE,
        payer,
        payee,
        rule.fee(ref.priority),
        at,
        ref.completed_at,
        f"Referral {ref.referral_id} ({ref.direction.value}, {ref.priority.value}) "
        f"{ref.from_facility_id} -> {ref.to_facility_id}",
    )
    weights = policy.performance_pay.weights
    earned: dict[Book, Decimal] = {}
    for member, weight in (
        (referring, weights.referral_referring),
        (receiving, weights.referral_receiving),
    ):
        earned[member] = earned.get(member, Decimal(0)) + weight
    for member, total in earned.items():
        _points(uow, key, performance.team_of(str(member.facility_id)), member, total, at.period)


def record_session(s: SessionDelivered, uow: FinanceUnitOfWork) -> None:
    """An expert's delivered session at a member: the session fee, and the expert's points."""
    policy = uow.policy
    key = f"session:{s.session_id}"
    if _seen(uow, key):
        return
    home, host = uow.member(s.home_facility_id), uow.member(s.facility_id)
    if home == host:
        return  # a session at the expert's own facility sends nothing down
    at = posting_period(uow, period_of(s.date, uow.clock))
    rule = policy.tariff.session_fee
    payer, payee = (host, home) if rule.payer == "host" else (home, host)
    _charge(
        uow,
        key,
        SettlementKind.SESSION_FEE,
        payer,
        payee,
        rule.fee(s.patients_seen, s.home_visits),
        at,
        s.checked_out_at,
        f"Expert session {s.session_id} of {s.staff_id} at {s.facility_id}",
    )
    points = performance.session_points(
        policy.performance_pay.weights, s.patients_seen, s.home_visits
    )
    _points(uow, key, s.staff_id, home, points, at.period)
