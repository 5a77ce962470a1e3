"""The finance unit of work: the backbone's, plus the local policy, the county's clock,
the records it reads and writes (``records``), per-transaction caches and posting counts.

Handlers receive a unit of work, not settings, so the policy and the clock travel on it: the
composition root (and each test) makes units of work with
``partial(FinanceUnitOfWork, policy=..., clock=...)``.

The caches hold for one transaction: the periods this transaction has share-locked (a
savepoint rolled back releases its locks, so they are forgotten then), and the member
facilities it has looked up (SQLAlchemy's identity map holds rows weakly, so without a
strong reference every lookup would be a query).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any, Self

from prometheus_client import Counter as PromCounter
from sqlalchemy import event
from sqlalchemy.orm import Session

from libs.directory import KnownFacility
from libs.events.outbox import OutboxSignal
from libs.events.unit_of_work import UnitOfWork
from libs.platform.clock import CountyClock
from services.finance.adapters.repository import FinanceRecords, SqlFinanceRecords
from services.finance.domain.journal import Book
from services.finance.domain.policy import FinancePolicy

__all__ = ["FinanceUnitOfWork"]


class FinanceUnitOfWork(UnitOfWork):
    """The backbone's unit of work with the finance policy and the county's clock; it counts
    the postings that commit on ``postings`` (labelled by entry type)."""

    def __init__(
        self,
        session_factory: Callable[[], Session],
        *,
        source: str,
        signal: OutboxSignal | None = None,
        policy: FinancePolicy,
        clock: CountyClock,
        postings: PromCounter | None = None,
    ) -> None:
        super().__init__(session_factory, source=source, signal=signal)
        self.policy = policy
        self.clock = clock
        self.postings_counter = postings

    def __enter__(self) -> Self:
        super().__enter__()
        self.records: FinanceRecords = SqlFinanceRecords(self.session)
        self._begin()
        event.listen(self.session, "after_soft_rollback", self._after_rollback)
        return self

    def _begin(self) -> None:
        """Start this transaction's caches empty."""
        self.locked_periods: set[str] = set()
        self._members: dict[str, KnownFacility] = {}
        self._postings: list[tuple[object, str]] = []
        # the transaction objects themselves (not their ids: a freed object's id is reused)
        self._rolled_back: set[object] = set()

    def _after_rollback(self, _session: Any, transaction: Any) -> None:
        self.locked_periods.clear()
        self._rolled_back.add(transaction)

    def member_facility(self, facility_id: str) -> KnownFacility:
        """A member facility as this service knows it (``unknown_facility`` dead letter if
        it is not a member)."""
        facility = self._members.get(facility_id)
        if facility is None:
            facility = self.records.facility(facility_id)
            self._members[facility_id] = facility
        return facility

    def load_members(self, facility_ids: Iterable[str]) -> None:
        """Look up at once the member facilities a set of records names; ones this copy does
        not know, or knows closed, are left for :meth:`member_facility` to refuse as it
        always does."""
        wanted = set(facility_ids) - self._members.keys()
        if wanted:
            for facility in self.records.facilities(wanted):
                if facility.active:
                    self._members[facility.facility_id] = facility

    def member(self, facility_id: str) -> Book:
        """The books of a member facility."""
        facility = self.member_facility(facility_id)
        return Book(facility.community_id, facility.facility_id)

    def count_posting(self, entry_type: str) -> None:
        """Count a posting once its transaction (and its savepoint) commits."""
        current = self.session.get_nested_transaction() or self.session.get_transaction()
        self._postings.append((current, entry_type))

    def commit(self) -> None:
        """Commit, then count the postings that are now durable."""
        super().commit()
        counter = self.postings_counter
        kept = Counter(t for tx, t in self._postings if tx not in self._rolled_back)
        if counter is not None:
            for entry_type, count in kept.items():
                counter.labels(entry_type).inc(count)
        self._postings.clear()
        self._rolled_back.clear()
        self.locked_periods.clear()

    def rollback(self) -> None:
        super().rollback()
        self._postings.clear()
        self._rolled_back.clear()
        self.locked_periods.clear()
