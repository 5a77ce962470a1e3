"""Admin HTTP for the ledger: the chart, the journal, balances, the trial balance, and
manual and reversing entries."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, ConfigDict, Field

from libs.events.catalogue.finance import EntryType
from libs.events.payload import Amount, Code, Identifier, Period
from libs.platform.auth import Role
from libs.platform.http.errors import ApiError
from libs.platform.http.pagination import Page, PageDep
from services.finance.adapters.schema import JournalEntry
from services.finance.api.access import (
    BooksReader,
    FinanceCentre,
    FinanceUow,
    PeriodQuery,
    scope_to_facility,
)
from services.finance.domain.accounts import CHART
from services.finance.service_layer import manual, queries

router = APIRouter(prefix="/ledger", tags=["ledger"])


class LineIn(BaseModel):
    """One line: in a facility's books (``facility_id``) or a community's pool
    (``community_id`` alone)."""

    model_config = ConfigDict(extra="forbid")

    account_code: Code
    facility_id: Identifier | None = None
    community_id: Identifier | None = None
    debit: Amount = Decimal("0.00")
    credit: Amount = Decimal("0.00")


class EntryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    memo: str = Field(min_length=1, max_length=400)
    period: Period | None = Field(default=None, description="Default: the current period.")
    lines: list[LineIn] = Field(min_length=2, max_length=500)


class ReversalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    memo: str = Field(min_length=1, max_length=400)
    period: Period | None = Field(default=None, description="Default: the current period.")


@router.get("/accounts", summary="The chart of accounts (member books and community pools)")
def list_accounts(_: BooksReader) -> list[dict[str, str]]:
    return [
        {
            "code": a.code,
            "name": a.name,
            "name_zh": a.name_zh,
            "type": a.type.value,
            "scope": a.scope.value,
        }
        for a in CHART.values()
    ]


@router.get("/journal", summary="Journal entries, newest first")
def list_journal(
    principal: BooksReader,
    uow: FinanceUow,
    page: PageDep,
    facility_id: Identifier | None = None,
    community_id: Identifier | None = None,
    account_code: Code | None = None,
    period: PeriodQuery = None,
    entry_type: EntryType | None = None,
    causation_event_id: Annotated[str | None, Query(max_length=64)] = None,
) -> Page[dict[str, Any]]:
    facility_id = scope_to_facility(principal, facility_id)
    wanted = queries.JournalFilter(
        lines=queries.LineFilter(
            facility_id=facility_id, community_id=community_id, account_code=account_code
        ),
        period=period,
        entry_type=entry_type.value if entry_type else None,
        causation_event_id=causation_event_id,
    )
    only = facility_id if principal.role is Role.CLINIC_STAFF else None
    with uow:
        items, total = queries.journal_page(
            uow.session, wanted, page.limit, page.offset, only_facility=only
        )
    return page.of(items, total=total)


@router.get("/journal/{entry_id}", summary="One journal entry with its lines")
def get_entry(entry_id: str, principal: BooksReader, uow: FinanceUow) -> dict[str, Any]:
    with uow:
        entry = uow.session.get(JournalEntry, entry_id)
        if entry is None:
            raise ApiError(404, "not_found", f"entry {entry_id} does not exist")
        lines = queries.entry_lines(uow.session, entry_id)
        if principal.role is Role.CLINIC_STAFF:
            lines = [ln for ln in lines if ln["facility_id"] == principal.facility_id]
            if not lines:  # not in its books: as if it did not exist
                raise ApiError(404, "not_found", f"entry {entry_id} does not exist")
        return queries.entry_view(entry, lines)


@router.post(
    "/journal",
    status_code=status.HTTP_201_CREATED,
    summary="Post a manual entry (it must balance in every book it touches)",
)
def post_entry(body: EntryIn, _: FinanceCentre, uow: FinanceUow) -> dict[str, Any]:
    lines = [
        manual.ManualLine(ln.account_code, ln.facility_id, ln.community_id, ln.debit, ln.credit)
        for ln in body.lines
    ]
    event = manual.post_manual_entry(uow, lines, body.memo, body.period)
    return event.model_dump(mode="json")


@router.post(
    "/journal/{entry_id}/reversal",
    status_code=status.HTTP_201_CREATED,
    summary="Reverse an entry (entries are never edited)",
)
def reverse_entry(
    entry_id: str, body: ReversalIn, _: FinanceCentre, uow: FinanceUow
) -> dict[str, Any]:
    event = manual.reverse_entry(uow, entry_id, body.memo, body.period)
    return event.model_dump(mode="json")


def _line_filter(
    principal: BooksReader,
    facility_id: str | None,
    community_id: str | None,
    pool: bool,
    account_code: str | None,
    period_from: str | None,
    period_to: str | None,
) -> queries.LineFilter:
    if pool and facility_id is not None:
        raise ApiError(400, "bad_request", "pool and facility_id exclude each other")
    if pool and principal.role is Role.CLINIC_STAFF:
        raise ApiError(403, "forbidden", "clinic staff see their own facility's books only")
    return queries.LineFilter(
        facility_id=scope_to_facility(principal, facility_id),
        community_id=community_id,
        pool_only=pool,
        account_code=account_code,
        period_from=period_from,
        period_to=period_to,
    )


@router.get("/balances", summary="Account balances per book")
def balances(
    principal: BooksReader,
    uow: FinanceUow,
    facility_id: Identifier | None = None,
    community_id: Identifier | None = None,
    pool: bool = False,
    account_code: Code | None = None,
    period_from: PeriodQuery = None,
    period_to: PeriodQuery = None,
) -> list[dict[str, Any]]:
    wanted = _line_filter(
        principal, facility_id, community_id, pool, account_code, period_from, period_to
    )
    with uow:
        return [t.view() for t in queries.account_totals(uow.session, wanted, by_book=True)]


@router.get(
    "/trial-balance",
    summary="Trial balance of one facility, one pool, one community or the whole county",
    description="Without facility_id or community_id it is the county's consolidated trial "
    "balance; with community_id alone, the community's (its pool and members); with "
    "pool=true, the pool only. Cumulative up to period_to (inclusive).",
)
def trial_balance(
    principal: BooksReader,
    uow: FinanceUow,
    facility_id: Identifier | None = None,
    community_id: Identifier | None = None,
    pool: bool = False,
    period_from: PeriodQuery = None,
    period_to: PeriodQuery = None,
) -> dict[str, Any]:
    wanted = _line_filter(principal, facility_id, community_id, pool, None, period_from, period_to)
    with uow:
        totals = queries.account_totals(uow.session, wanted, by_book=False)
    debits = sum((t.debit for t in totals), Decimal("0.00"))
    credits = sum((t.credit for t in totals), Decimal("0.00"))
    return {
        "facility_id": wanted.facility_id,
        "community_id": community_id,
        "pool": pool,
        "period_from": period_from,
        "period_to": period_to,
        "accounts": [t.view() for t in totals],
        "total_debit": debits,
        "total_credit": credits,
        "difference": debits - credits,
    }
