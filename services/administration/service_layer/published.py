"""Keeping what the other domains published that the appraisal reads.

Only what the scorecard needs is kept: reporting's month cells of the indicators it names
(at the levels it names; the latest version of a cell wins), each member's audits, the
delivered expert sessions, the bundles and their monthly settlements. Each is a state or a
fact with its own key, so applying one twice changes nothing.
"""

from __future__ import annotations

from libs.events.catalogue.finance import BudgetOpened, BudgetSettled
from libs.events.catalogue.quality import AuditCompleted
from libs.events.catalogue.reporting import IndicatorCellUpdated, PeriodKind
from libs.events.catalogue.staffing import SessionDelivered
from libs.events.unit_of_work import UnitOfWork
from services.administration.adapters.schema import (
    AuditResult,
    Budget,
    BudgetSettlement,
    DeliveredSession,
    IndicatorCell,
)
from services.administration.service_layer.unit_of_work import administration_uow

__all__ = [
    "record_audit",
    "record_budget",
    "record_cell",
    "record_session",
    "record_settlement",
]


def record_cell(data: IndicatorCellUpdated, uow: UnitOfWork) -> None:
    """A month cell of an indicator the scorecard reads; other cells are not kept."""
    wanted = administration_uow(uow).scorecard.reporting_indicators()
    if data.period_kind is not PeriodKind.MONTH or data.level.value not in wanted.get(
        data.indicator, ()
    ):
        return
    row = uow.session.get(IndicatorCell, data.cell_id)
    if row is None:
        row = IndicatorCell(
            cell_id=data.cell_id,
            indicator=data.indicator,
            level=data.level.value,
            unit_id=data.unit_id,
            month=data.period,
            version=0,
        )
        uow.session.add(row)
    if data.version > row.version:
        row.numerator, row.denominator, row.version = data.numerator, data.denominator, data.version


def record_audit(data: AuditCompleted, uow: UnitOfWork) -> None:
    if uow.session.get(AuditResult, (data.facility_id, data.month)) is None:
        uow.session.add(
            AuditResult(
                facility_id=data.facility_id,
                month=data.month,
                reviewed=data.reviewed,
                irrational=data.irrational,
            )
        )


def record_session(data: SessionDelivered, uow: UnitOfWork) -> None:
    if uow.session.get(DeliveredSession, data.session_id) is None:
        uow.session.add(
            DeliveredSession(
                session_id=data.session_id, facility_id=data.facility_id, held_on=data.date
            )
        )


def record_budget(data: BudgetOpened, uow: UnitOfWork) -> None:
    row = uow.session.get(Budget, data.budget_id)
    if row is None:
        uow.session.add(
            Budget(
                budget_id=data.budget_id,
                community_id=data.community_id,
                year=data.year,
                total_amount=data.total_amount,
            )
        )


def record_settlement(data: BudgetSettled, uow: UnitOfWork) -> None:
    row = uow.session.get(BudgetSettlement, (data.budget_id, data.period))
    if row is None:
        uow.session.add(
            BudgetSettlement(
                budget_id=data.budget_id, month=data.period, consumed=data.consumed_in_period
            )
        )
    else:
        row.consumed = data.consumed_in_period  # a settlement re-run states the month again
