"""The pharmacy's unit of work: the backbone's, plus its stock ledger, policy and clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from sqlalchemy.orm import Session

from libs.directory import FacilityDirectory
from libs.events.envelope import utc_now
from libs.events.outbox import OutboxSignal
from libs.events.unit_of_work import UnitOfWork
from services.pharmacy.adapters.ledger import StockLedger
from services.pharmacy.domain.policy import Policy

__all__ = ["PharmacyUnitOfWork", "pharmacy_uow"]


class PharmacyUnitOfWork(UnitOfWork):
    """The backbone's unit of work with the pharmacy's policy and clock (tests fix it)."""

    def __init__(
        self,
        session_factory: Callable[[], Session],
        *,
        source: str,
        signal: OutboxSignal | None = None,
        policy: Policy | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        super().__init__(session_factory, source=source, signal=signal)
        self.policy = policy or Policy()
        self.clock = clock

    @property
    def stock(self) -> StockLedger:
        return StockLedger(self.session)

    @property
    def directory(self) -> FacilityDirectory:
        return FacilityDirectory(self.session)

    def now(self) -> datetime:
        return self.clock()

    def today(self) -> date:
        """The county's date now: lots expire by local calendar day."""
        return self.policy.local_date(self.now())


def pharmacy_uow(uow: UnitOfWork) -> PharmacyUnitOfWork:
    """``uow`` as the pharmacy's; a plain one means the process was wired wrongly."""
    if not isinstance(uow, PharmacyUnitOfWork):
        raise TypeError("the pharmacy needs PharmacyUnitOfWork (see bootstrap.compose)")
    return uow
