"""The referral unit of work: the backbone's, plus the service's configuration (SLA clocks,
the county's rules, the pseudonym key) that its use cases read."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from libs.events.outbox import OutboxSignal
from libs.events.unit_of_work import UnitOfWork
from services.referral.config import ReferralConfig

__all__ = ["ReferralUnitOfWork", "referral_uow"]


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


def referral_uow(uow: UnitOfWork) -> ReferralUnitOfWork:
    """``uow`` as the referral service's; a plain one means the process was wired wrongly."""
    if not isinstance(uow, ReferralUnitOfWork):
        raise TypeError("the referral service needs ReferralUnitOfWork (see bootstrap.compose)")
    return uow
