"""Property: whatever happens, in whatever order, the books balance.

Hypothesis draws sequences of every event finance consumes (visits of every kind, transfers,
dispensing, write-offs, referrals, sessions), copies of earlier events (redelivered or sent
again under a new id), period closes and reversals, and applies them through the real
handlers to a real database. After each sequence: every entry balances in every book it
touches, every book's trial balance and the consolidated one sum to zero, each visit was
valued once, and the bundle's consumption equals its claims.

The database is shared by the examples of one test, so the invariants are checked after
ever longer histories, not just after short ones.
"""

from __future__ import annotations

import contextlib
from datetime import date
from decimal import Decimal
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from libs.events.catalogue.values import (
    FacilityTier,
    InsuranceType,
    ReferralDirection,
    ReferralPriority,
)
from services.finance.adapters.schema import Budget, Claim, JournalEntry, JournalLine
from services.finance.service_layer import manual, periods
from tests.support import finance as f
from tests.support.finance import fuow
from tests.support.harness import HandlerHarness, event_of

SEED = yaml.safe_load(f.SEED_COUNTY.read_text(encoding="utf-8"))
MEMBERS = [(x["facility_id"], FacilityTier(x["tier"])) for x in SEED["facilities"]]
MEMBER_IDS = [m for m, _ in MEMBERS]

cents = st.integers(min_value=0, max_value=5_000_000).map(lambda c: Decimal(c).scaleb(-2))
unit_prices = st.integers(min_value=1, max_value=9_999_999).map(lambda c: Decimal(c).scaleb(-4))
months = st.integers(min_value=1, max_value=10)
days = st.integers(min_value=1, max_value=28)
hours = st.integers(min_value=0, max_value=23)
moments = st.builds(lambda m, d, h: f.local(2026, m, d, h), months, days, hours)


@st.composite
def visits(draw: st.DrawFn) -> Any:
    facility, tier = draw(st.sampled_from([*MEMBERS, ("OUT-H1", FacilityTier.TERTIARY)]))
    eligible = draw(cents)
    return f.visit(
        facility,
        eligible=str(eligible),
        total=str(eligible + draw(cents)),
        tier=tier,
        insurance=draw(st.sampled_from(list(InsuranceType))),
        in_county=facility != "OUT-H1",
        insured_in_county=draw(st.booleans()) if facility != "OUT-H1" else True,
        when=draw(moments),
    )


@st.composite
def transfers(draw: st.DrawFn) -> Any:
    cost = draw(st.none() | unit_prices)
    return f.transfer(
        draw(st.sampled_from(MEMBER_IDS)),
        draw(st.sampled_from(MEMBER_IDS)),
        packs=draw(st.integers(min_value=1, max_value=2000)),
        unit_price=str(draw(unit_prices)),
        unit_cost=None if cost is None else str(cost),
        when=draw(moments),
    )


@st.composite
def dispensings(draw: st.DrawFn) -> Any:
    cost = draw(st.none() | unit_prices)
    return f.dispensed(
        draw(st.sampled_from(MEMBER_IDS)),
        packs=draw(st.integers(min_value=1, max_value=60)),
        unit_price=str(draw(unit_prices)),
        unit_cost=None if cost is None else str(cost),
        when=draw(moments),
    )


@st.composite
def referrals(draw: st.DrawFn) -> Any:
    return f.referral(
        draw(st.sampled_from(MEMBER_IDS)),
        draw(st.sampled_from(MEMBER_IDS)),
        direction=draw(st.sampled_from(list(ReferralDirection))),
        priority=draw(st.sampled_from(list(ReferralPriority))),
        when=draw(moments),
    )


@st.composite
def sessions(draw: st.DrawFn) -> Any:
    return f.session(
        draw(st.sampled_from(["S-1", "S-2", "S-3"])),
        home=draw(st.sampled_from(["QS-H01", "QS-H02"])),
        at=draw(st.sampled_from(MEMBER_IDS)),
        patients=draw(st.integers(min_value=0, max_value=40)),
        home_visits=draw(st.integers(min_value=0, max_value=5)),
        day=date(2026, draw(months), draw(days)),
    )


write_offs = st.builds(
    lambda facility, value, when: f.written_off(facility, value=str(value), when=when),
    st.sampled_from(MEMBER_IDS),
    cents,
    moments,
)
payloads = st.one_of(visits(), transfers(), dispensings(), write_offs, referrals(), sessions())
events = payloads.map(lambda p: ("event", p))
operations = st.one_of(
    events,
    events,
    events,
    events,
    st.integers(min_value=0, max_value=50).map(lambda i: ("redeliver", i)),
    st.integers(min_value=0, max_value=50).map(lambda i: ("resend", i)),
    months.map(lambda m: ("close", f"2026-{m:02d}")),
    st.integers(min_value=0, max_value=50).map(lambda i: ("reverse", i)),
)


def run(harness: HandlerHarness, ops: list[tuple[str, Any]], history: list[Any]) -> None:
    batch: list[Any] = []
    for kind, arg in ops:
        if kind == "event":
            event = event_of(arg)
            history.append(event)
            batch.append(event)
        elif kind in ("redeliver", "resend") and history:
            earlier = history[arg % len(history)]
            batch.append(earlier if kind == "redeliver" else event_of(earlier.data))
        else:
            if batch:
                harness.apply(*batch)
                batch = []
            if kind == "close":
                with contextlib.suppress(periods.AlreadyClosed):
                    periods.close_period(fuow(harness), arg)
            elif kind == "reverse":
                _reverse_one(harness, arg)
    if batch:
        harness.apply(*batch)


def _reverse_one(harness: HandlerHarness, pick: int) -> None:
    with harness.database.sessions() as session:
        ids = list(session.scalars(select(JournalEntry.entry_id).order_by(JournalEntry.entry_id)))
    if ids:
        with contextlib.suppress(manual.AlreadyReversed):
            manual.reverse_entry(fuow(harness), ids[pick % len(ids)], "property test")


def check_invariants(harness: HandlerHarness, history: list[Any]) -> None:
    with harness.database.sessions() as session:
        per_entry_book = session.execute(
            select(
                JournalLine.entry_id,
                JournalLine.community_id,
                JournalLine.facility_id,
                func.sum(JournalLine.debit),
                func.sum(JournalLine.credit),
            ).group_by(JournalLine.entry_id, JournalLine.community_id, JournalLine.facility_id)
        ).all()
        unbalanced = [row for row in per_entry_book if Decimal(row[3]) != Decimal(row[4])]
        assert unbalanced == [], "entries that do not balance in a book"
        debit, credit = session.execute(
            select(func.sum(JournalLine.debit), func.sum(JournalLine.credit))
        ).one()
        assert Decimal(debit or 0) == Decimal(credit or 0), "the consolidated trial balance"
        for budget in session.scalars(select(Budget)):
            claimed = session.execute(
                select(func.coalesce(func.sum(Claim.payout), 0)).where(
                    Claim.budget_id == budget.budget_id
                )
            ).scalar_one()
            assert budget.consumed == Decimal(claimed), "the bundle's consumption"
        valued = session.execute(select(func.count(Claim.claim_id))).scalar_one()
        distinct = session.execute(select(func.count(func.distinct(Claim.visit_key)))).scalar_one()
        assert valued == distinct, "a visit valued twice"
        entries = session.execute(select(func.count(JournalEntry.entry_id))).scalar_one()
    assert set(f.totals_by_book(harness).values()) <= {Decimal(0)}, "a book's trial balance"
    assert len(harness.published("finance.journal_entry.posted.v1")) == entries
    assert len(harness.published("finance.claim.valued.v1")) == valued
    assert not harness.dead_letters()


@settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=st.lists(operations, min_size=4, max_size=30))
def test_the_books_balance_after_any_sequence_of_events(
    finance: HandlerHarness, ops: list[tuple[str, Any]]
) -> None:
    history: list[Any] = []
    run(finance, ops, history)
    check_invariants(finance, history)
