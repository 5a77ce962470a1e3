"""The pharmacy's unit of work: the backbone's, plus its stock ledger, policy and clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any, ClassVar

from libs.directory import FacilityDirectory
from libs.events.envelope import utc_now
from libs.events.unit_of_work import UnitOfWork
from services.pharmacy.adapters.ledger import StockLedger
from services.pharmacy.domain.policy import Policy

__all__ = ["PharmacyUnitOfWork", "pharmacy_uow"]


class PharmacyUnitOfWork(UnitOfWork):
    """``policy`` and ``clock`` are class attributes so the worker, which builds units of work
    from a class, gets them; :meth:`configured` makes a subclass with other ones."""

    policy: ClassVar[Policy] = Policy()
    clock: ClassVar[Callable[[], datetime]] = staticmethod(utc_now)

    @classmethod
    def configured(
        cls, *, policy: Policy | None = None, clock: Callable[[], datetime] | None = None
    ) -> type[PharmacyUnitOfWork]:
        """A unit-of-work class with this policy (and clock, for tests)."""
        attributes: dict[str, Any] = {"policy": policy or cls.policy}
        if clock is not None:
            attributes["clock"] = staticmethod(clock)
        return type("ConfiguredPharmacyUnitOfWork", (cls,), attributes)

    @property
    def stock(self) -> StockLedger:
        return StockLedger(self.session)

    @property
    def directory(self) -> FacilityDirectory:
        return FacilityDirectory(self.session)

    def now(self) -> datetime:
        return type(self).clock()

    def today(self) -> date:
        """The county's date now: lots expire by local calendar day."""
        return self.policy.local_date(self.now())


def pharmacy_uow(uow: UnitOfWork) -> PharmacyUnitOfWork:
    """``uow`` as the pharmacy's; a plain one means the process was wired wrongly."""
    if not isinstance(uow, PharmacyUnitOfWork):
        raise TypeError("the pharmacy needs PharmacyUnitOfWork (see bootstrap.build)")
    return uow
