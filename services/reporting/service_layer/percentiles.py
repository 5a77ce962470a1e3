"""Ranking percentile cells (the review hold times) when a batch commits.

Percentiles do not add up, so their cells are not summed like the others: a handler keeps
each duration as a row (:class:`ReviewHold`) and records a :class:`Rank` of the cells of the
duration's day and month at every level; when the batch commits, each cell to rank is
locked (so two processes ranking the same cell take turns, the second seeing the first's
rows) and computed from all the durations of its unit and period — a facility's own, its
community's facilities', the county's — into a :class:`Put` (numerator: the percentile in
minutes; denominator: how many durations it ranks).

One query per unit and period, shared by its percentiles: a batch touches a few dozen."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from libs.events.catalogue.reporting import OrgUnitLevel, PeriodKind
from services.reporting.adapters.cells import CellStore
from services.reporting.adapters.schema import ReviewHold
from services.reporting.domain.cells import Change, Put, Rank
from services.reporting.domain.indicators import indicator
from services.reporting.domain.quality import hold_minutes, nearest_rank

__all__ = ["rank"]

_Where = tuple[OrgUnitLevel, str, PeriodKind, str]


def rank(store: CellStore, session: Session, changes: Sequence[Change]) -> list[Change]:
    """``changes`` with every :class:`Rank` turned into the :class:`Put` of its cell (after
    locking the cells ranked)."""
    keys = sorted({c.key for c in changes if isinstance(c, Rank)})
    if not keys:
        return list(changes)
    store.lock(keys)
    durations: dict[_Where, list[int]] = {}
    puts: list[Change] = []
    for key in keys:
        where = (key.level, key.unit_id, key.period_kind, key.period)
        if where not in durations:
            durations[where] = _durations(session, *where)
        ranked = durations[where]
        percentile = indicator(key.indicator).percentile
        if percentile is None:
            raise ValueError(f"{key.indicator} is not a percentile indicator")
        value = hold_minutes(nearest_rank(ranked, percentile)) if ranked else Decimal(0)
        puts.append(Put(key, value, Decimal(len(ranked))))
    return [c for c in changes if not isinstance(c, Rank)] + puts


def _durations(
    session: Session, level: OrgUnitLevel, unit_id: str, kind: PeriodKind, period: str
) -> list[int]:
    """The hold durations (seconds, sorted) of a unit decided in a period."""
    where: list[ColumnElement[bool]] = [
        (ReviewHold.day if kind is PeriodKind.DAY else ReviewHold.month) == period
    ]
    if level is OrgUnitLevel.FACILITY:
        where.append(ReviewHold.facility_id == unit_id)
    elif level is OrgUnitLevel.COMMUNITY:
        where.append(ReviewHold.community_id == unit_id)
    # the county's: every hold (the service reports on one county)
    return list(session.scalars(select(ReviewHold.seconds).where(*where).order_by("seconds")))
