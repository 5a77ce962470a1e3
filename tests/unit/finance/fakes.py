"""An in-memory stand-in for the finance unit of work (*Architecture Patterns with Python*,
chapter 6): the same records interface the use cases call, kept in lists and dicts, so a
use case runs without a database and a test reads what it wrote and published."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from datetime import UTC, datetime
from decimal import Decimal
from types import TracebackType
from typing import Any, Self

from libs.directory import KnownFacility
from libs.events import Payload
from libs.events.retry import NotYetKnown, PermanentError
from libs.platform.clock import CountyClock
from services.finance.adapters.repository import OPEN, FinanceRecords, Points
from services.finance.adapters.schema import (
    Budget,
    Claim,
    InternalCharge,
    JournalEntry,
    JournalLine,
    SettlementRun,
)
from services.finance.domain.policy import FinancePolicy
from services.finance.service_layer.unit_of_work import FinanceUnitOfWork

__all__ = ["FakeFinanceRecords", "FakeUnitOfWork", "member"]

AS_OF = datetime(2026, 1, 1, tzinfo=UTC)


def member(facility_id: str, community_id: str, tier: str = "primary") -> KnownFacility:
    """A member facility as the organisation's copy would hold it."""
    return KnownFacility(
        facility_id=facility_id,
        name=facility_id,
        community_id=community_id,
        county_code="QS",
        tier=tier,
        facility_type="township_health_centre",
        parent_facility_id=None,
        departments=[],
        active=True,
        closed_on=None,
        as_of=AS_OF,
    )


class FakeFinanceRecords(FinanceRecords):
    """The finance records in memory."""

    def __init__(
        self,
        facilities: list[KnownFacility] | None = None,
        points: dict[tuple[str, str], Points] | None = None,
    ) -> None:
        self.periods: dict[str, str] = {}
        self.facilities_by_id = {f.facility_id: f for f in facilities or []}
        self.entries: list[tuple[JournalEntry, list[JournalLine]]] = []
        self.claims: list[Claim] = []
        self.charges: list[InternalCharge] = []
        self.budgets: dict[tuple[str, int], Budget] = {}
        self.runs: list[SettlementRun] = []
        self.points = points or {}

    def period_status(self, period: str) -> str:
        return self.periods.setdefault(period, OPEN)

    def facility(self, facility_id: str) -> KnownFacility:
        facility = self.facilities_by_id.get(facility_id)
        if facility is None:
            raise NotYetKnown("unknown_facility", f"facility {facility_id} is not a member")
        if not facility.active:  # closed: final, as the organisation's copy says
            raise PermanentError("unknown_facility", f"facility {facility_id} is not a member")
        return facility

    def facilities(self, facility_ids: Collection[str]) -> list[KnownFacility]:
        return [self.facilities_by_id[f] for f in facility_ids if f in self.facilities_by_id]

    def has_entry(self, source_key: str) -> bool:
        return any(entry.source_key == source_key for entry, _ in self.entries)

    def posted_keys(self, source_keys: Collection[str]) -> set[str]:
        return {
            entry.source_key
            for entry, _ in self.entries
            if entry.source_key is not None and entry.source_key in source_keys
        }

    def add_entry(self, entry: JournalEntry, lines: list[JournalLine]) -> None:
        self.entries.append((entry, lines))

    def add_entries(self, entries: list[JournalEntry], lines: list[JournalLine]) -> None:
        for entry in entries:
            self.entries.append((entry, [ln for ln in lines if ln.entry_id == entry.entry_id]))

    def add_charges(self, charges: list[InternalCharge]) -> None:
        self.charges += charges

    def has_claim(self, visit_key: str) -> bool:
        return any(claim.visit_key == visit_key for claim in self.claims)

    def add_claim(self, claim: Claim) -> None:
        self.claims.append(claim)

    def budget(self, community_id: str, year: int) -> Budget | None:
        return self.budgets.get((community_id, year))

    def add_budget(self, budget: Budget) -> None:
        self.budgets[(budget.community_id, budget.year)] = budget

    def communities(self) -> set[str]:
        return {f.community_id for f in self.facilities_by_id.values()}

    def has_run(self, kind: str, period: str, scope: str) -> bool:
        return any((r.kind, r.period, r.scope) == (kind, period, scope) for r in self.runs)

    def add_run(self, run: SettlementRun) -> None:
        self.runs.append(run)

    def appraisal_points(self, community_id: str, period: str) -> Points:
        return dict(self.points.get((community_id, period), {}))

    def balance(self, facility_id: str | None, account: str, community_id: str = "") -> Decimal:
        """Debits less credits on one account of one set of books."""
        return sum(
            (
                line.debit - line.credit
                for _, lines in self.entries
                for line in lines
                if line.facility_id == facility_id
                and line.account_code == account
                and (facility_id is not None or line.community_id == community_id)
            ),
            Decimal(0),
        )


class FakeUnitOfWork(FinanceUnitOfWork):
    """The finance unit of work over :class:`FakeFinanceRecords`: no session at all (asking
    for one fails), published payloads kept in order, commits counted."""

    def __init__(
        self, policy: FinancePolicy, clock: CountyClock, records: FakeFinanceRecords
    ) -> None:
        super().__init__(_no_database, source="/services/finance", policy=policy, clock=clock)
        self.fake_records = records
        self.published: list[Payload] = []
        self.posted: Counter[str] = Counter()
        self.commits = 0

    def __enter__(self) -> Self:
        self.records = self.fake_records
        self._begin()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    def publish(self, data: Payload, *, subject: str | None = None) -> Any:
        self.published.append(data)

    def count_posting(self, entry_type: str) -> None:
        self.posted[entry_type] += 1

    def commit(self) -> None:
        self.commits += 1

    def rollback(self) -> None:
        pass

    def of_type(self, kind: type[Payload]) -> list[Any]:
        """The payloads of one type published so far."""
        return [p for p in self.published if isinstance(p, kind)]


def _no_database() -> Any:
    raise AssertionError("a unit test has no database")
