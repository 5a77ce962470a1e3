"""The quality unit of work: the backbone's, plus the service's configuration."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from libs.events.outbox import OutboxSignal
from libs.events.unit_of_work import UnitOfWork
from services.quality.config import QualityConfig

__all__ = ["QualityUnitOfWork", "quality_uow"]


class QualityUnitOfWork(UnitOfWork):
    def __init__(
        self,
        session_factory: Callable[[], Session],
        *,
        source: str,
        signal: OutboxSignal | None = None,
        config: QualityConfig,
    ) -> None:
        super().__init__(session_factory, source=source, signal=signal)
        self.config = config


def quality_uow(uow: UnitOfWork) -> QualityUnitOfWork:
    """``uow`` as the quality service's; a plain one means the process was wired wrongly."""
    if not isinstance(uow, QualityUnitOfWork):
        raise TypeError("the quality service needs QualityUnitOfWork (see bootstrap.compose)")
    return uow
