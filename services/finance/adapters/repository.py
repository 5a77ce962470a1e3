"""The finance records the use cases read and write, behind one small interface.

Use cases ask the unit of work's ``records`` for what they need instead of querying the
session themselves, so a test can put an in-memory stand-in behind the same interface
(``tests/unit/finance/fakes.py``) and run a use case without a database.
"""

from __future__ import annotations

import abc
from collections.abc import Collection, Iterator
from decimal import Decimal

from sqlalchemy import func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from libs.directory import FacilityDirectory, KnownCommunity, KnownFacility
from services.finance.adapters.schema import (
    AccountingPeriod,
    AppraisalPoints,
    Budget,
    Claim,
    InternalCharge,
    JournalEntry,
    JournalLine,
    SettlementRun,
)

__all__ = ["CLOSED", "OPEN", "FinanceRecords", "Points", "SqlFinanceRecords", "lock_period"]

OPEN, CLOSED = "open", "closed"

#: Points per (staff, facility) for one community and period.
Points = dict[tuple[str, str], Decimal]


class FinanceRecords(abc.ABC):
    """What the finance use cases keep: periods, the journal, claims, budgets, runs."""

    @abc.abstractmethod
    def period_status(self, period: str) -> str:
        """The status of ``period``, share-locked for this transaction (open if new)."""

    @abc.abstractmethod
    def facility(self, facility_id: str) -> KnownFacility:
        """A member facility (``unknown_facility`` if this copy does not know it)."""

    @abc.abstractmethod
    def facilities(self, facility_ids: Collection[str]) -> list[KnownFacility]:
        """The facilities of ``facility_ids`` this copy knows, open or closed (a set of records
        looks up every facility it names at once)."""

    @abc.abstractmethod
    def has_entry(self, source_key: str) -> bool:
        """Whether an entry with ``source_key`` was posted already."""

    @abc.abstractmethod
    def posted_keys(self, source_keys: Collection[str]) -> set[str]:
        """Which of ``source_keys`` were posted already."""

    @abc.abstractmethod
    def add_entry(self, entry: JournalEntry, lines: list[JournalLine]) -> None: ...

    @abc.abstractmethod
    def add_entries(self, entries: list[JournalEntry], lines: list[JournalLine]) -> None:
        """Add many entries and their lines at once (the lines of all the entries together)."""

    @abc.abstractmethod
    def add_charges(self, charges: list[InternalCharge]) -> None:
        """What members now owe each other, until a settlement run pays it."""

    @abc.abstractmethod
    def has_claim(self, visit_key: str) -> bool:
        """Whether the visit ``visit_key`` was valued already."""

    @abc.abstractmethod
    def add_claim(self, claim: Claim) -> None: ...

    @abc.abstractmethod
    def budget(self, community_id: str, year: int) -> Budget | None:
        """A community's budget of ``year``, locked for this transaction."""

    @abc.abstractmethod
    def add_budget(self, budget: Budget) -> None:
        """Add a budget now: a second process opening it at the same moment fails here."""

    @abc.abstractmethod
    def communities(self) -> set[str]:
        """The communities this copy of the organisation knows."""

    @abc.abstractmethod
    def has_run(self, kind: str, period: str, scope: str) -> bool:
        """Whether a settlement run of ``kind`` was made for ``period`` and ``scope``."""

    @abc.abstractmethod
    def add_run(self, run: SettlementRun) -> None: ...

    @abc.abstractmethod
    def appraisal_points(self, community_id: str, period: str) -> Points:
        """The points earned in a community in ``period``, per staff member and facility."""


def lock_period(session: Session, period: str, *, exclusive: bool = False) -> str:
    """The status of ``period``, locked for this transaction (created open if new)."""
    query = select(AccountingPeriod.status).where(AccountingPeriod.period == period)
    status = session.execute(query.with_for_update(read=not exclusive)).scalar_one_or_none()
    if status is None:
        _insert_open(session, period)
        status = session.execute(query.with_for_update(read=not exclusive)).scalar_one()
    return status


def _insert_open(session: Session, period: str) -> None:
    values = {"period": period, "status": OPEN, "closed_at": None}
    if session.get_bind().dialect.name == "postgresql":
        session.execute(postgresql.insert(AccountingPeriod).values(values).on_conflict_do_nothing())
    else:
        session.execute(sqlite.insert(AccountingPeriod).values(values).on_conflict_do_nothing())


class SqlFinanceRecords(FinanceRecords):
    """The records in the service's database, in the unit of work's session."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def period_status(self, period: str) -> str:
        return lock_period(self.session, period)

    def facility(self, facility_id: str) -> KnownFacility:
        return FacilityDirectory(self.session).require(facility_id)

    def facilities(self, facility_ids: Collection[str]) -> list[KnownFacility]:
        known: list[KnownFacility] = []
        for chunk in _chunks(facility_ids):
            query = select(KnownFacility).where(KnownFacility.facility_id.in_(chunk))
            known += self.session.scalars(query)
        return known

    def has_entry(self, source_key: str) -> bool:
        query = select(JournalEntry.entry_id).where(JournalEntry.source_key == source_key)
        return self.session.execute(query).first() is not None

    def posted_keys(self, source_keys: Collection[str]) -> set[str]:
        posted: set[str] = set()
        for chunk in _chunks(source_keys):
            query = select(JournalEntry.source_key).where(JournalEntry.source_key.in_(chunk))
            posted.update(key for key in self.session.scalars(query) if key is not None)
        return posted

    def add_entry(self, entry: JournalEntry, lines: list[JournalLine]) -> None:
        self.session.add(entry)
        self.session.add_all(lines)

    def add_entries(self, entries: list[JournalEntry], lines: list[JournalLine]) -> None:
        # one multi-row statement per table, not the unit of work's statement per line: the
        # journal is append-only and nothing reads these rows back as objects in this session
        if entries:
            self.session.execute(insert(JournalEntry), [_columns(e) for e in entries])
        if lines:
            self.session.execute(insert(JournalLine), [_columns(line) for line in lines])

    def add_charges(self, charges: list[InternalCharge]) -> None:
        self.session.add_all(charges)

    def has_claim(self, visit_key: str) -> bool:
        query = select(Claim.claim_id).where(Claim.visit_key == visit_key)
        return self.session.execute(query).first() is not None

    def add_claim(self, claim: Claim) -> None:
        self.session.add(claim)

    def budget(self, community_id: str, year: int) -> Budget | None:
        query = select(Budget).where(Budget.community_id == community_id, Budget.year == year)
        return self.session.scalars(query.with_for_update()).one_or_none()

    def add_budget(self, budget: Budget) -> None:
        self.session.add(budget)
        self.session.flush()

    def communities(self) -> set[str]:
        return set(self.session.scalars(select(KnownCommunity.community_id)))

    def has_run(self, kind: str, period: str, scope: str) -> bool:
        query = select(SettlementRun.run_id).where(
            SettlementRun.kind == kind, SettlementRun.period == period, SettlementRun.scope == scope
        )
        return self.session.execute(query).first() is not None

    def add_run(self, run: SettlementRun) -> None:
        self.session.add(run)

    def appraisal_points(self, community_id: str, period: str) -> Points:
        rows = self.session.execute(
            select(
                AppraisalPoints.staff_id,
                AppraisalPoints.facility_id,
                func.sum(AppraisalPoints.points),
            )
            .where(AppraisalPoints.community_id == community_id, AppraisalPoints.period == period)
            .group_by(AppraisalPoints.staff_id, AppraisalPoints.facility_id)
        ).all()
        return {(staff, facility): Decimal(total) for staff, facility, total in rows}


#: Keys per ``IN`` list: well inside both databases' limits on bound parameters.
_CHUNK = 1000


def _chunks(values: Collection[str]) -> Iterator[list[str]]:
    ordered = sorted(set(values))
    for start in range(0, len(ordered), _CHUNK):
        yield ordered[start : start + _CHUNK]


def _columns(row: JournalEntry | JournalLine) -> dict[str, object]:
    """A row's column values for a bulk insert (a generated id left to the database)."""
    return {
        column.key: getattr(row, column.key)
        for column in row.__mapper__.column_attrs
        if column.key != "id" or getattr(row, column.key) is not None
    }
