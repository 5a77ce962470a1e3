"""The administration unit of work: the backbone's, plus the scorecard and the clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from libs.events.outbox import OutboxSignal
from libs.events.unit_of_work import UnitOfWork
from libs.platform.clock import CountyClock
from services.administration.domain.scorecard import Scorecard

__all__ = ["AdministrationUnitOfWork", "administration_uow"]


class AdministrationUnitOfWork(UnitOfWork):
    def __init__(
        self,
        session_factory: Callable[[], Session],
        *,
        source: str,
        signal: OutboxSignal | None = None,
        clock: CountyClock,
        scorecard: Scorecard,
    ) -> None:
        super().__init__(session_factory, source=source, signal=signal)
        self.clock = clock
        self.scorecard = scorecard

    def now(self) -> datetime:
        """The county clock's now, in UTC (SQLite keeps an instant without its zone)."""
        return self.clock.now().astimezone(UTC)


def administration_uow(uow: UnitOfWork) -> AdministrationUnitOfWork:
    """``uow`` as administration's; a plain one means the process was wired wrongly."""
    if not isinstance(uow, AdministrationUnitOfWork):
        raise TypeError("administration needs AdministrationUnitOfWork (see bootstrap.compose)")
    return uow
