"""The gateway's unit of work: the backbone's, plus its configuration and its records."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from libs.directory import FacilityDirectory
from libs.events.outbox import OutboxSignal
from libs.events.unit_of_work import UnitOfWork
from services.gateway.adapters.ledger import SubmissionLedger
from services.gateway.adapters.systems import FeedBook, SystemRegistry
from services.gateway.config import GatewayConfig

__all__ = ["GatewayUnitOfWork", "gateway_uow"]


class GatewayUnitOfWork(UnitOfWork):
    def __init__(
        self,
        session_factory: Callable[[], Session],
        *,
        source: str,
        signal: OutboxSignal | None = None,
        config: GatewayConfig,
    ) -> None:
        super().__init__(session_factory, source=source, signal=signal)
        self.config = config
        self._tiers: dict[str, str | None] = {}

    @property
    def systems(self) -> SystemRegistry:
        return SystemRegistry(self.session)

    @property
    def feeds(self) -> FeedBook:
        return FeedBook(self.session)

    @property
    def ledger(self) -> SubmissionLedger:
        return SubmissionLedger(self.session)

    @property
    def facilities(self) -> FacilityDirectory:
        return FacilityDirectory(self.session)

    def facility_tier(self, facility_id: str) -> str | None:
        """The member's tier, or ``None`` when it is not (or no longer) a member; read once
        per unit of work (every message of a request names the system's one facility)."""
        if facility_id not in self._tiers:
            known = self.facilities.get(facility_id)
            self._tiers[facility_id] = known.tier if known is not None and known.active else None
        return self._tiers[facility_id]


def gateway_uow(uow: UnitOfWork) -> GatewayUnitOfWork:
    """``uow`` as the gateway's; a plain one means the process was wired wrongly."""
    if not isinstance(uow, GatewayUnitOfWork):
        raise TypeError("the gateway needs GatewayUnitOfWork (see bootstrap.compose)")
    return uow
