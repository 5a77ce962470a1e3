"""The referral unit of work: the backbone's, plus the service's configuration (SLA clocks,
the county's rules, the pseudonym key) and the referral records its use cases read."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from libs.events.outbox import OutboxSignal
from libs.events.unit_of_work import UnitOfWork
from services.referral.adapters.repository import ReferralRepository, SqlReferralRepository
from services.referral.config import ReferralConfig

__all__ = ["ReferralUnitOfWork", "referral_records", "referral_uow"]


class ReferralUnitOfWork(UnitOfWork):
    def __init__(
        self,
        session_factory: Callable[[], Session],
        *,
        source: str,
        signal: OutboxSignal | None = None,
        config: ReferralConfig,
    ) -> None:
        super().__init__(session_factory, source=source, signal=signal)
        self.config = config

    @property
    def referrals(self) -> ReferralRepository:
        """The referral records of this transaction (a fake stands in for unit tests)."""
        return SqlReferralRepository(self.session)


def referral_uow(uow: UnitOfWork) -> ReferralUnitOfWork:
    """``uow`` as the referral service's; a plain one means the process was wired wrongly."""
    if not isinstance(uow, ReferralUnitOfWork):
        raise TypeError("the referral service needs ReferralUnitOfWork (see bootstrap.compose)")
    return uow


def referral_records(uow: UnitOfWork) -> ReferralRepository:
    """The referral records behind ``uow``: its own repository, or the database's when a
    handler runs in the backbone's plain unit of work."""
    if isinstance(uow, ReferralUnitOfWork):
        return uow.referrals
    return SqlReferralRepository(uow.session)
