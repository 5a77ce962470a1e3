"""The pharmacy's unit of work: the backbone's, plus its repositories, policy and clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from sqlalchemy.orm import Session

from libs.directory import FacilityDirectory
from libs.events.outbox import OutboxSignal
from libs.events.unit_of_work import UnitOfWork
from libs.platform.clock import CountyClock
from services.pharmacy.adapters.ledger import StockLedger
from services.pharmacy.adapters.repository import (
    Records,
    SqlRecords,
    SqlStockItems,
    SqlTransfers,
    StockItems,
    Transfers,
)
from services.pharmacy.domain.policy import Policy

__all__ = ["PharmacyUnitOfWork", "pharmacy_uow"]


class PharmacyUnitOfWork(UnitOfWork):
    """The backbone's unit of work with the pharmacy's policy and the county's clock (tests
    fix its ``now``)."""

    def __init__(
        self,
        session_factory: Callable[[], Session],
        *,
        source: str,
        signal: OutboxSignal | None = None,
        policy: Policy | None = None,
        clock: CountyClock | None = None,
    ) -> None:
        super().__init__(session_factory, source=source, signal=signal)
        self.policy = policy or Policy()
        self.clock = clock or CountyClock()
        self._repositories: tuple[Session, StockItems, Transfers, Records] | None = None

    @property
    def stock(self) -> StockLedger:
        return StockLedger(self.session)

    @property
    def directory(self) -> FacilityDirectory:
        return FacilityDirectory(self.session)

    def _repos(self) -> tuple[Session, StockItems, Transfers, Records]:
        # One set per session: the item and transfer repositories remember what they loaded.
        session = self.session
        if self._repositories is None or self._repositories[0] is not session:
            items = SqlStockItems(session, self.clock)
            records = SqlRecords(session, self.clock)
            self._repositories = (session, items, SqlTransfers(session), records)
        return self._repositories

    @property
    def items(self) -> StockItems:
        return self._repos()[1]

    @property
    def transfers(self) -> Transfers:
        return self._repos()[2]

    @property
    def records(self) -> Records:
        return self._repos()[3]

    def now(self) -> datetime:
        return self.clock.now()

    def today(self) -> date:
        """The county's date now: lots expire by local calendar day."""
        return self.clock.today()


def pharmacy_uow(uow: UnitOfWork) -> PharmacyUnitOfWork:
    """``uow`` as the pharmacy's; a plain one means the process was wired wrongly."""
    if not isinstance(uow, PharmacyUnitOfWork):
        raise TypeError("the pharmacy needs PharmacyUnitOfWork (see bootstrap.compose)")
    return uow
