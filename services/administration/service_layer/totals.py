"""Adding up what was published about a half-year, and who is appraised in it."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from services.administration.adapters.schema import (
    AuditResult,
    Budget,
    BudgetSettlement,
    DeliveredSession,
    Facility,
    IndicatorCell,
)
from services.administration.domain.figures import Member, PeriodTotals
from services.administration.domain.periods import HalfYear
from services.administration.domain.scorecard import Scorecard

__all__ = ["appraised_members", "period_totals"]

_MONTHS = Decimal(12)


def appraised_members(session: Session, period: HalfYear, scorecard: Scorecard) -> list[Member]:
    """The facilities of the appraised types that were members at some time in ``period``."""
    rows = session.scalars(
        select(Facility)
        .where(
            Facility.facility_type.in_(sorted(scorecard.appraised_types)),
            or_(Facility.active.is_(True), Facility.closed_on >= period.first_day),
        )
        .order_by(Facility.facility_id)
    )
    return [Member(f.facility_id, f.name, f.community_id, f.facility_type) for f in rows]


def period_totals(session: Session, period: HalfYear) -> PeriodTotals:
    months = period.months
    totals = PeriodTotals()
    cells = session.execute(
        select(
            IndicatorCell.indicator,
            IndicatorCell.level,
            IndicatorCell.unit_id,
            func.sum(IndicatorCell.numerator),
            func.sum(IndicatorCell.denominator),
        )
        .where(IndicatorCell.month.in_(months))
        .group_by(IndicatorCell.indicator, IndicatorCell.level, IndicatorCell.unit_id)
    )
    for indicator, level, unit, numerator, denominator in cells:
        totals.cells[(indicator, level, unit)] = (_exact(numerator), _exact(denominator))
    audits = session.execute(
        select(
            AuditResult.facility_id,
            func.sum(AuditResult.reviewed),
            func.sum(AuditResult.irrational),
        )
        .where(AuditResult.month.in_(months))
        .group_by(AuditResult.facility_id)
    )
    for facility, reviewed, irrational in audits:
        totals.audits[facility] = (Decimal(reviewed), Decimal(irrational))
    sessions = session.execute(
        select(DeliveredSession.facility_id, func.count())
        .where(DeliveredSession.held_on.between(period.first_day, period.last_day))
        .group_by(DeliveredSession.facility_id)
    )
    totals.sessions = {facility: int(count) for facility, count in sessions}
    totals.budgets = _budgets(session, period)
    return totals


def _budgets(session: Session, period: HalfYear) -> dict[str, tuple[Decimal, Decimal]]:
    found: dict[str, tuple[Decimal, Decimal]] = {}
    for budget in session.scalars(select(Budget).where(Budget.year == period.year)):
        settled = list(
            session.scalars(
                select(BudgetSettlement.consumed).where(
                    BudgetSettlement.budget_id == budget.budget_id,
                    BudgetSettlement.month.in_(period.months),
                )
            )
        )
        if not settled:
            continue
        allowance = budget.total_amount * len(settled) / _MONTHS
        consumed, before = sum(settled, Decimal(0)), found.get(budget.community_id)
        if before is not None:
            consumed, allowance = consumed + before[0], allowance + before[1]
        found[budget.community_id] = (consumed, allowance)
    return found


def _exact(value: object) -> Decimal:
    """A SUM as an exact decimal (the money column's own sum on either database)."""
    return Decimal(str(value or 0))
