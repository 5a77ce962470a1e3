"""Internal settlement runs: members pay what they owe each other, once a period.

A run for period P pays every charge dated P or earlier that no run has paid yet (so a
charge that arrived after an earlier run is paid by the next one).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select

from libs.directory import FacilityDirectory
from libs.events.catalogue.finance import (
    EntryType,
    SettlementCompleted,
    SettlementKind,
    SettlementLine,
)
from libs.platform.refusals import Conflict
from services.finance.adapters.schema import InternalCharge, SettlementRun
from services.finance.domain.journal import Book
from services.finance.domain.periods import period_end
from services.finance.domain.settlement import Charge, settlement_lines, summarise, total_of
from services.finance.service_layer.ledger import ensure_ended, post_split, posting_period
from services.finance.service_layer.unit_of_work import FinanceUnitOfWork

__all__ = ["INTERNAL", "AlreadySettled", "run_internal_settlement", "settle_internal"]

INTERNAL = "internal"
SCOPE = "all"


class AlreadySettled(Conflict):
    def __init__(self, message: str) -> None:
        super().__init__("already_settled", message)


def settle_internal(
    uow: FinanceUnitOfWork, period: str, now: datetime
) -> SettlementCompleted | None:
    """Run the internal settlement of ``period`` in the caller's unit of work; ``None`` if
    it ran already."""
    ensure_ended(uow, period, now)
    at = posting_period(uow, period, strict=True)
    if uow.records.has_run(INTERNAL, period, SCOPE):
        return None
    run_id = f"RUN-{uuid.uuid4().hex}"
    rows = _unpaid_charges(uow, period)
    charges = [Charge(r.payer_facility_id, r.payee_facility_id, r.kind, r.amount) for r in rows]
    post_split(
        uow,
        EntryType.INTERNAL_SETTLEMENT,
        f"Internal settlement {period}",
        settlement_lines(charges, _books_of(uow, charges)),
        at,
        occurred_at=period_end(period, uow.clock),
        source=f"internal:{period}",
    )
    for row in rows:
        row.settlement_run_id = run_id
    summary = summarise(charges)
    total = total_of(charges)
    uow.records.add_run(
        SettlementRun(
            run_id=run_id,
            kind=INTERNAL,
            period=period,
            scope=SCOPE,
            total=total,
            detail={"charges": len(rows), "pairs": len(summary)},
            completed_at=now,
        )
    )
    event = SettlementCompleted(
        run_id=run_id,
        period=period,
        lines=[
            SettlementLine(
                payer_facility_id=c.payer,
                payee_facility_id=c.payee,
                kind=SettlementKind(c.kind),
                amount=c.amount,
            )
            for c in summary
        ],
        total_amount=total,
        completed_at=now,
    )
    uow.publish(event)
    return event


def _unpaid_charges(uow: FinanceUnitOfWork, period: str) -> list[InternalCharge]:
    """Every charge dated ``period`` or earlier that no run has paid, locked, in order."""
    return list(
        uow.session.scalars(
            select(InternalCharge)
            .where(InternalCharge.settlement_run_id.is_(None), InternalCharge.period <= period)
            .order_by(InternalCharge.id)
            .with_for_update()
        )
    )


def _books_of(uow: FinanceUnitOfWork, charges: list[Charge]) -> dict[str, Book]:
    """The books of every member that pays or is paid."""
    directory = FacilityDirectory(uow.session)
    books: dict[str, Book] = {}
    for facility_id in {c.payer for c in charges} | {c.payee for c in charges}:
        known = directory.get(facility_id)
        # a member that closed since keeps its books: its charges were recorded while known
        community = known.community_id if known else "unknown"
        books[facility_id] = Book(community, facility_id)
    return books


def run_internal_settlement(uow: FinanceUnitOfWork, period: str) -> SettlementCompleted:
    """The internal settlement of ``period`` as one unit of work."""
    with uow:
        event = settle_internal(uow, period, uow.clock.now())
        if event is None:
            raise AlreadySettled(f"the internal settlement of {period} ran already")
        uow.commit()
        return event
