"""Read models for the admin API: the journal, balances, the trial balance, runs."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from services.finance.adapters.schema import JournalEntry, JournalLine, SettlementRun
from services.finance.domain.accounts import CHART

__all__ = [
    "JournalFilter",
    "LineFilter",
    "account_totals",
    "journal_page",
    "settlement_runs",
]


@dataclass(frozen=True)
class LineFilter:
    """Which lines: one facility's books, one community's (pool only, or all its books),
    one account, a range of periods."""

    facility_id: str | None = None
    community_id: str | None = None
    pool_only: bool = False
    account_code: str | None = None
    period_from: str | None = None
    period_to: str | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = []
        if self.facility_id is not None:
            found.append(JournalLine.facility_id == self.facility_id)
        if self.community_id is not None:
            found.append(JournalLine.community_id == self.community_id)
        if self.pool_only:
            found.append(JournalLine.facility_id.is_(None))
        if self.account_code is not None:
            found.append(JournalLine.account_code == self.account_code)
        if self.period_from is not None:
            found.append(JournalLine.period >= self.period_from)
        if self.period_to is not None:
            found.append(JournalLine.period <= self.period_to)
        return found


@dataclass(frozen=True)
class JournalFilter:
    lines: LineFilter
    period: str | None = None
    entry_type: str | None = None
    causation_event_id: str | None = None


def _line_view(line: JournalLine) -> dict[str, Any]:
    return {
        "line_no": line.line_no,
        "account_code": line.account_code,
        "facility_id": line.facility_id,
        "community_id": line.community_id,
        "debit": line.debit,
        "credit": line.credit,
    }


def journal_page(
    session: Session, wanted: JournalFilter, limit: int, offset: int, *, only_facility: str | None
) -> tuple[list[dict[str, Any]], int]:
    """Entries newest first, each with its lines (only ``only_facility``'s if given)."""
    query = select(JournalEntry)
    if wanted.period is not None:
        query = query.where(JournalEntry.period == wanted.period)
    if wanted.entry_type is not None:
        query = query.where(JournalEntry.entry_type == wanted.entry_type)
    if wanted.causation_event_id is not None:
        query = query.where(JournalEntry.causation_event_id == wanted.causation_event_id)
    conditions = wanted.lines.conditions()
    if conditions:
        query = query.where(
            JournalEntry.entry_id.in_(select(JournalLine.entry_id).where(*conditions))
        )
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    entries = list(
        session.scalars(
            query.order_by(JournalEntry.posted_at.desc(), JournalEntry.entry_id)
            .limit(limit)
            .offset(offset)
        )
    )
    lines_query = select(JournalLine).where(JournalLine.entry_id.in_([e.entry_id for e in entries]))
    if only_facility is not None:
        lines_query = lines_query.where(JournalLine.facility_id == only_facility)
    by_entry: dict[str, list[dict[str, Any]]] = {}
    for line in session.scalars(lines_query.order_by(JournalLine.entry_id, JournalLine.line_no)):
        by_entry.setdefault(line.entry_id, []).append(_line_view(line))
    items = [entry_view(e, by_entry.get(e.entry_id, [])) for e in entries]
    return items, int(total)


def entry_view(entry: JournalEntry, lines: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "entry_id": entry.entry_id,
        "entry_type": entry.entry_type,
        "period": entry.period,
        "original_period": entry.original_period,
        "memo": entry.memo,
        "causation_event_id": entry.causation_event_id,
        "causation_event_type": entry.causation_event_type,
        "reverses_entry_id": entry.reverses_entry_id,
        "occurred_at": entry.occurred_at,
        "posted_at": entry.posted_at,
        "lines": lines,
    }


def entry_lines(session: Session, entry_id: str) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(JournalLine).where(JournalLine.entry_id == entry_id).order_by(JournalLine.line_no)
    )
    return [_line_view(r) for r in rows]


@dataclass(frozen=True)
class AccountTotal:
    community_id: str | None
    facility_id: str | None
    account_code: str
    debit: Decimal
    credit: Decimal

    @property
    def balance(self) -> Decimal:
        """Debit minus credit."""
        return self.debit - self.credit

    def view(self) -> dict[str, Any]:
        account = CHART.get(self.account_code)
        return {
            "community_id": self.community_id,
            "facility_id": self.facility_id,
            "account_code": self.account_code,
            "account_name": account.name if account else None,
            "account_name_zh": account.name_zh if account else None,
            "account_type": account.type.value if account else None,
            "debit": self.debit,
            "credit": self.credit,
            "balance": self.balance,
        }


def account_totals(session: Session, wanted: LineFilter, *, by_book: bool) -> list[AccountTotal]:
    """Debit and credit totals per account (per book too with ``by_book``), summed exactly
    in the database."""
    keys: list[Any] = [JournalLine.account_code]
    if by_book:
        keys = [JournalLine.community_id, JournalLine.facility_id, *keys]
    rows = session.execute(
        select(*keys, func.sum(JournalLine.debit), func.sum(JournalLine.credit))
        .where(*wanted.conditions())
        .group_by(*keys)
        .order_by(*keys)
    ).all()
    totals = []
    for row in rows:
        community, facility = (row[0], row[1]) if by_book else (None, None)
        code, debit, credit = row[-3], row[-2], row[-1]
        totals.append(AccountTotal(community, facility, code, Decimal(debit), Decimal(credit)))
    return totals


def settlement_runs(
    session: Session, kind: str | None, period: str | None, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    query = select(SettlementRun)
    if kind is not None:
        query = query.where(SettlementRun.kind == kind)
    if period is not None:
        query = query.where(SettlementRun.period == period)
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    runs = session.scalars(
        query.order_by(SettlementRun.completed_at.desc(), SettlementRun.run_id)
        .limit(limit)
        .offset(offset)
    )
    return [
        {
            "run_id": r.run_id,
            "kind": r.kind,
            "period": r.period,
            "scope": r.scope,
            "total": r.total,
            "detail": r.detail,
            "completed_at": r.completed_at,
        }
        for r in runs
    ], int(total)
