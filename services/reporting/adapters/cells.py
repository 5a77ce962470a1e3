"""Applying cell changes with a few statements per batch, on SQLite and PostgreSQL.

A batch's changes arrive together (see the unit of work); this module turns them into:

1. one ``INSERT … ON CONFLICT DO NOTHING RETURNING`` for the cells whose denominator is fixed
   when they open (the cells it returns are new: their denominator goes to their parents);
2. one upsert per distinct flow cell, coalesced (``numerator = numerator + excluded…``) and
   sent as one executemany — a batch of 500 prescriptions touches a few dozen cells, not
   500 × 6;
3. the level changes, in order, each a look-up, at most one insert and one ranged update;
4. one upsert per cell put (a percentile ranked again), setting its values.

Rows are written in key order, so two processes applying batches at once lock shared cells
(a community's, the county's) in the same order. Level units are additionally serialised
with a transaction-scoped advisory lock on PostgreSQL: a level cell is seeded from the one
before it, which another transaction must not change in between.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, select, text, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from libs.events.catalogue.reporting import OrgUnitLevel, PeriodKind
from services.reporting.adapters.schema import IndicatorCell
from services.reporting.domain.cells import (
    Add,
    CellKey,
    Change,
    Open,
    Put,
    Rank,
    Reset,
    Shift,
    Unit,
)
from services.reporting.domain.indicators import indicator
from services.reporting.domain.periods import period_of

__all__ = ["CellStore"]

ZERO = Decimal(0)
_TABLE: Table = IndicatorCell.__table__  # type: ignore[assignment]
_KEY = ("indicator", "level", "unit_id", "period_kind", "period")
_CHUNK = 400


def _insert(session: Session) -> Any:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(_TABLE)
    if dialect == "sqlite":
        return sqlite.insert(_TABLE)
    raise NotImplementedError(f"indicator cells are not implemented for {dialect}")


def _row(key: CellKey, numerator: Decimal, denominator: Decimal, now: datetime) -> dict[str, Any]:
    return {
        "indicator": key.indicator,
        "level": key.level.value,
        "unit_id": key.unit_id,
        "period_kind": key.period_kind.value,
        "period": key.period,
        "numerator": numerator,
        "denominator": denominator,
        "version": 1,
        "updated_at": now,
    }


def key_of(cell: IndicatorCell) -> CellKey:
    return CellKey(
        cell.indicator,
        OrgUnitLevel(cell.level),
        cell.unit_id,
        PeriodKind(cell.period_kind),
        cell.period,
    )


class CellStore:
    """The cell table, as one transaction sees it."""

    def __init__(self, session: Session, now: datetime) -> None:
        self._session = session
        self._now = now

    # --- writing -------------------------------------------------------------------------

    def apply(self, changes: Sequence[Change]) -> set[CellKey]:
        """Apply ``changes`` (in the caller's transaction); returns every cell touched.
        A :class:`Rank` must have been turned into a :class:`Put` first."""
        if any(isinstance(c, Rank) for c in changes):
            raise TypeError("rank percentile cells before applying their changes")
        touched: set[CellKey] = set()
        opens = [c for c in changes if isinstance(c, Open)]
        adds = [c for c in changes if isinstance(c, Add)]
        levels = [c for c in changes if isinstance(c, Shift | Reset)]
        adds += self._open(opens, touched)
        self._add(adds, touched)
        if levels:
            self._lock_level_units(levels)
            for change in levels:
                if isinstance(change, Shift):
                    self._shift(change.indicator, change.unit, change.day, change.delta, touched)
                else:
                    self._reset(change, touched)
        self._put([c for c in changes if isinstance(c, Put)], touched)
        return touched

    def lock(self, keys: Iterable[CellKey]) -> None:
        """Serialise the cells ``keys`` with other transactions until this one ends (a
        transaction-scoped advisory lock on PostgreSQL; SQLite has one writer at a time):
        for cells computed from rows other transactions may be adding."""
        if self._session.get_bind().dialect.name != "postgresql":
            return
        for key in sorted(set(keys)):
            lock = zlib.crc32(f"reporting-cell:{key.cell_id}".encode()) & 0x7FFFFFFF
            self._session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": lock})

    def _put(self, puts: Sequence[Put], touched: set[CellKey]) -> None:
        last = {change.key: change for change in puts}
        if not last:
            return
        rows = [_row(k, last[k].numerator, last[k].denominator, self._now) for k in sorted(last)]
        insert = _insert(self._session)
        upsert = insert.on_conflict_do_update(
            index_elements=list(_KEY),
            set_={
                "numerator": insert.excluded.numerator,
                "denominator": insert.excluded.denominator,
                "version": _TABLE.c.version + 1,
                "updated_at": insert.excluded.updated_at,
            },
        )
        self._session.execute(upsert, rows)
        touched.update(last)

    def _open(self, opens: list[Open], touched: set[CellKey]) -> list[Add]:
        first: dict[CellKey, Open] = {}
        for change in opens:
            first.setdefault(change.key, change)
        if not first:
            return []
        rows = [_row(k, ZERO, first[k].denominator, self._now) for k in sorted(first)]
        insert = _insert(self._session)
        created: set[CellKey] = set()
        for chunk in _chunks(rows):
            result = self._session.execute(
                insert.values(chunk)
                .on_conflict_do_nothing(index_elements=list(_KEY))
                .returning(*(_TABLE.c[name] for name in _KEY))
            )
            for indicator_code, level, unit_id, kind, period in result:
                created.add(
                    CellKey(indicator_code, OrgUnitLevel(level), unit_id, PeriodKind(kind), period)
                )
        touched |= created
        return [
            Add(parent, ZERO, first[key].denominator)
            for key in sorted(created)
            for parent in first[key].parents
        ]

    def _add(self, adds: Iterable[Add], touched: set[CellKey]) -> None:
        sums: dict[CellKey, list[Decimal]] = {}
        for change in adds:
            entry = sums.setdefault(change.key, [ZERO, ZERO])
            entry[0] += change.numerator
            entry[1] += change.denominator
        rows = [
            _row(key, num, den, self._now) for key, (num, den) in sorted(sums.items()) if num or den
        ]
        if not rows:
            return
        insert = _insert(self._session)
        upsert = insert.on_conflict_do_update(
            index_elements=list(_KEY),
            set_={
                "numerator": _TABLE.c.numerator + insert.excluded.numerator,
                "denominator": _TABLE.c.denominator + insert.excluded.denominator,
                "version": _TABLE.c.version + 1,
                "updated_at": insert.excluded.updated_at,
            },
        )
        self._session.execute(upsert, rows)
        touched.update(key for key, (num, den) in sums.items() if num or den)

    def _lock_level_units(self, levels: Sequence[Shift | Reset]) -> None:
        if self._session.get_bind().dialect.name != "postgresql":
            return  # SQLite has one writer at a time
        names = set()
        for change in levels:
            units = [change.unit, *(change.parents if isinstance(change, Reset) else ())]
            names |= {f"{change.indicator}:{u.level.value}:{u.unit_id}" for u in units}
        for name in sorted(names):
            lock = zlib.crc32(f"reporting-level:{name}".encode()) & 0x7FFFFFFF
            self._session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": lock})

    def _latest(
        self, code: str, unit: Unit, kind: PeriodKind, period: str
    ) -> tuple[str, Decimal] | None:
        row = self._session.execute(
            select(IndicatorCell.period, IndicatorCell.numerator)
            .where(
                IndicatorCell.indicator == code,
                IndicatorCell.level == unit.level.value,
                IndicatorCell.unit_id == unit.unit_id,
                IndicatorCell.period_kind == kind.value,
                IndicatorCell.period <= period,
            )
            .order_by(IndicatorCell.period.desc())
            .limit(1)
        ).first()
        return None if row is None else (row[0], row[1])

    def _shift(
        self, code: str, unit: Unit, day: date, delta: Decimal, touched: set[CellKey]
    ) -> None:
        """The unit's level moves by ``delta`` from ``day`` on: the period of ``day`` is
        seeded from the last level before it, then it and every later period move."""
        for kind in indicator(code).periods:
            period = period_of(day, kind)
            latest = self._latest(code, unit, kind, period)
            if latest is None or latest[0] != period:
                seed = latest[1] if latest else ZERO
                row = _row(
                    CellKey(code, unit.level, unit.unit_id, kind, period), seed, ZERO, self._now
                )
                row["version"] = 0  # the update below makes it 1
                self._session.execute(_insert(self._session).values(row))
            moved = self._session.execute(
                update(_TABLE)
                .where(
                    _TABLE.c.indicator == code,
                    _TABLE.c.level == unit.level.value,
                    _TABLE.c.unit_id == unit.unit_id,
                    _TABLE.c.period_kind == kind.value,
                    _TABLE.c.period >= period,
                )
                .values(
                    numerator=_TABLE.c.numerator + delta,
                    version=_TABLE.c.version + 1,
                    updated_at=self._now,
                )
                .returning(_TABLE.c.period)
            )
            touched.update(CellKey(code, unit.level, unit.unit_id, kind, p) for (p,) in moved)

    def _reset(self, change: Reset, touched: set[CellKey]) -> None:
        """The facility's level becomes ``value`` on ``day``, unless a later day is already
        known (an older report arriving late); its parents move by the difference."""
        kind = indicator(change.indicator).periods[0]  # the finest period
        unit = change.unit
        later = self._session.execute(
            select(IndicatorCell.period)
            .where(
                IndicatorCell.indicator == change.indicator,
                IndicatorCell.level == unit.level.value,
                IndicatorCell.unit_id == unit.unit_id,
                IndicatorCell.period_kind == kind.value,
                IndicatorCell.period > period_of(change.day, kind),
            )
            .limit(1)
        ).first()
        if later is not None:
            return
        latest = self._latest(change.indicator, unit, kind, period_of(change.day, kind))
        delta = change.value - (latest[1] if latest else ZERO)
        for target in (unit, *change.parents):
            self._shift(change.indicator, target, change.day, delta, touched)

    # --- reading -------------------------------------------------------------------------

    def read(self, keys: Iterable[CellKey]) -> list[IndicatorCell]:
        """The cells with ``keys`` as they are now, in key order."""
        wanted = sorted(set(keys))
        cells: list[IndicatorCell] = []
        columns = tuple_(*(_TABLE.c[name] for name in _KEY))
        for chunk in _chunks(wanted):
            values = [
                (k.indicator, k.level.value, k.unit_id, k.period_kind.value, k.period)
                for k in chunk
            ]
            cells += self._session.scalars(
                select(IndicatorCell)
                .where(columns.in_(values))
                .execution_options(populate_existing=True)
            )
        return sorted(cells, key=key_of)

    def restore(self, rows: Sequence[dict[str, Any]]) -> None:
        """Write cells as the changelog carries them (the rebuild): a cell already written
        is replaced only by a higher version."""
        latest: dict[tuple[Any, ...], dict[str, Any]] = {}
        for row in rows:
            key = tuple(row[name] for name in _KEY)
            if key not in latest or row["version"] > latest[key]["version"]:
                latest[key] = row
        insert = _insert(self._session)
        upsert = insert.on_conflict_do_update(
            index_elements=list(_KEY),
            set_={
                "numerator": insert.excluded.numerator,
                "denominator": insert.excluded.denominator,
                "version": insert.excluded.version,
                "updated_at": insert.excluded.updated_at,
            },
            where=insert.excluded.version > _TABLE.c.version,
        )
        for chunk in _chunks([latest[k] for k in sorted(latest)]):
            self._session.execute(upsert, list(chunk))


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]
