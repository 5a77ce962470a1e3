"""The reporting unit of work: the backbone's, plus the batch's cell changes and their
changelog.

Handlers describe changes (:meth:`ReportingUnitOfWork.record`); :meth:`commit` applies all
of a batch's changes with a few statements, then stages one
``reporting.indicator.updated.v1`` per touched cell carrying its full current value, and
commits them with the batch's processed-event claims. So a cell, its changelog record and
the claims of the events it counts are one transaction: a redelivered batch changes nothing,
and the changelog has one record per touched cell per batch, not one per event and cell.

A change recorded under a savepoint that is rolled back (an event dead-lettered) is
dropped, like the event's other writes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC
from typing import Any, Self

from sqlalchemy import event
from sqlalchemy.orm import Session

from libs.directory import FacilityDirectory
from libs.events.catalogue.reporting import IndicatorCellUpdated, OrgUnitLevel, PeriodKind
from libs.events.catalogue.values import FacilityTier
from libs.events.envelope import utc_now
from libs.events.outbox import OutboxSignal
from libs.events.retry import NotYetKnown
from libs.events.unit_of_work import UnitOfWork
from services.reporting.adapters.cells import CellStore
from services.reporting.adapters.schema import IndicatorCell
from services.reporting.domain.cells import Change, Member
from services.reporting.domain.rules import County
from services.reporting.service_layer import percentiles

__all__ = ["ReportingUnitOfWork", "changelog_event"]


def changelog_event(cell: IndicatorCell) -> IndicatorCellUpdated:
    """The state-transfer event of one cell."""
    level, kind = OrgUnitLevel(cell.level), PeriodKind(cell.period_kind)
    return IndicatorCellUpdated(
        cell_id=f"{cell.indicator}:{level.value}:{cell.unit_id}:{kind.value}:{cell.period}",
        indicator=cell.indicator,
        level=level,
        unit_id=cell.unit_id,
        period_kind=kind,
        period=cell.period,
        numerator=cell.numerator,
        denominator=cell.denominator,
        version=cell.version,
        # SQLite hands back naive datetimes; they were stored in UTC
        updated_at=cell.updated_at
        if cell.updated_at.tzinfo
        else cell.updated_at.replace(tzinfo=UTC),
    )


class ReportingUnitOfWork(UnitOfWork):
    def __init__(
        self,
        session_factory: Callable[[], Session],
        *,
        source: str,
        signal: OutboxSignal | None = None,
        county: County,
    ) -> None:
        super().__init__(session_factory, source=source, signal=signal)
        self.county = county

    def __enter__(self) -> Self:
        super().__enter__()
        self._changes: list[tuple[object, Change]] = []
        # the transaction objects themselves (not their ids: a freed object's id is reused)
        self._rolled_back: set[object] = set()
        self._members: dict[str, Member] = {}
        event.listen(self.session, "after_soft_rollback", self._after_rollback)
        return self

    def _after_rollback(self, _session: Any, transaction: Any) -> None:
        self._rolled_back.add(transaction)
        self._members.clear()  # a facility may have been registered in what was undone

    def member(self, facility_id: str) -> Member:
        """The facility as the organisation defines it; an event naming a facility the
        directory copy does not know is dead-lettered (``unknown_facility``) for replay once
        it is known. A closed facility keeps its history: its late events still count."""
        found = self._members.get(facility_id)
        if found is None:
            row = FacilityDirectory(self.session).get(facility_id)
            if row is None:
                raise NotYetKnown("unknown_facility", f"facility {facility_id} is not known")
            found = Member(row.facility_id, row.community_id, FacilityTier(row.tier))
            self._members[facility_id] = found
        return found

    def record(self, changes: Iterable[Change]) -> None:
        """Changes to apply when this unit of work commits (unless their savepoint rolls
        back)."""
        current = self.session.get_nested_transaction() or self.session.get_transaction()
        self._changes.extend((current, change) for change in changes)

    def commit(self) -> None:
        """Apply the recorded changes, stage the touched cells' changelog, commit."""
        changes = [c for tx, c in self._changes if tx not in self._rolled_back]
        if changes:
            store = CellStore(self.session, utc_now())
            touched = store.apply(percentiles.rank(store, self.session, changes))
            for cell in store.read(touched):
                self.publish(changelog_event(cell))
        self._changes.clear()
        self._rolled_back.clear()
        super().commit()

    def rollback(self) -> None:
        super().rollback()
        self._changes.clear()
        self._rolled_back.clear()
