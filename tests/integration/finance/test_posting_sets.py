"""Posting sets: a batch's dispensings (receipts, transfers, write-offs, adjustments) posted
at once give the ledger and the announcements that posting them one at a time gives, in a
few statements per set (real databases).

Each test has two books on two databases, with the same history: the seed organisation, one
member closed (``CLOSED``) and February closed (so a February cause posts late, in March).
One side posts a list of records as one set (``RecordSet``), the other one record at a time
(each a set of one under its own savepoint, as the per-record path applies it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event as sa_event
from sqlalchemy import func, select

from libs.events import CloudEvent, PermanentError
from libs.events.catalogue.organisation import FacilityClosed
from libs.events.catalogue.pharmacy import (
    AdjustmentReason,
    PrescriptionDispensed,
    ReceiptSource,
    StockAdjusted,
    StockReceived,
)
from libs.events.consuming.sets import RecordSet, one_at_a_time
from libs.events.retry import NotYetKnown
from services.finance.adapters.schema import InternalCharge, JournalEntry, JournalLine
from services.finance.service_layer import drugs, periods
from tests.support import finance as f
from tests.support.finance import finance_harness, fuow
from tests.support.harness import HandlerHarness, event_of

SEED = yaml.safe_load(f.SEED_COUNTY.read_text(encoding="utf-8"))
CLOSED = "QS-T10"
MEMBERS = [x["facility_id"] for x in SEED["facilities"] if x["facility_id"] != CLOSED]
FACILITIES = st.sampled_from([*MEMBERS, CLOSED])
SetHandler = Callable[[RecordSet[Any], Any], None]


@pytest.fixture
def books(make_database: Callable[[str], str]) -> Iterator[tuple[HandlerHarness, HandlerHarness]]:
    """(posted as sets, posted one at a time), with the same history."""
    pair = (finance_harness(make_database("finance_sets")), finance_harness(make_database("one")))
    for harness in pair:
        close_member(harness)
        periods.close_period(fuow(harness), "2026-02")
    yield pair
    for harness in pair:
        harness.close()


def close_member(harness: HandlerHarness) -> None:
    closed = FacilityClosed(
        facility_id=CLOSED,
        closed_on=date(2026, 1, 31),
        reason="merged",
        closed_at=datetime(2026, 1, 31, tzinfo=UTC),
    )
    harness.apply(event_of(closed, source="/services/staffing"))


def post_at_once(harness: HandlerHarness, handler: SetHandler, events: list[Any]) -> dict:
    """Post ``events`` as one set; the refused ones by position, with the reason."""
    with fuow(harness) as uow:
        records: RecordSet[Any] = RecordSet(uow, events)
        with uow.session.begin_nested():
            handler(records, uow)
        uow.commit()
    return {n: refusal.reason for n, refusal in records.refused.items()}


def post_one_at_a_time(harness: HandlerHarness, handler: SetHandler, events: list[Any]) -> dict:
    """Post ``events`` each as a set of one under its own savepoint; the refused ones."""
    refused = {}
    with fuow(harness) as uow:
        for n, event in enumerate(events):
            uow.cause = event
            savepoint = uow.session.begin_nested()
            try:
                one_at_a_time(handler)(event.data, uow)
                savepoint.commit()
            except PermanentError as refusal:
                savepoint.rollback()
                refused[n] = refusal.reason
        uow.cause = None
        uow.commit()
    return refused


def ledger(harness: HandlerHarness, causes: set[str]) -> list[tuple[Any, ...]]:
    """The entries ``causes`` posted, with their lines, without generated ids and times."""
    with harness.database.sessions() as session:
        entries = session.scalars(
            select(JournalEntry).where(JournalEntry.causation_event_id.in_(causes))
        ).all()
        lines: dict[str, list[tuple[Any, ...]]] = {e.entry_id: [] for e in entries}
        for line in session.scalars(
            select(JournalLine)
            .where(JournalLine.entry_id.in_(list(lines)))
            .order_by(JournalLine.line_no)
        ):
            lines[line.entry_id].append(_fields(line, LINE_FIELDS))
    return sorted((*_fields(e, ENTRY_FIELDS), tuple(lines[e.entry_id])) for e in entries)


ENTRY_FIELDS = [
    "causation_event_id",
    "causation_event_type",
    "entry_type",
    "period",
    "original_period",
    "memo",
    "source_key",
    "reverses_entry_id",
    "occurred_at",
]
LINE_FIELDS = [
    "line_no",
    "period",
    "community_id",
    "facility_id",
    "account_code",
    "debit",
    "credit",
]


def _fields(row: Any, names: list[str]) -> tuple[Any, ...]:
    return tuple(getattr(row, name) for name in names)


def announced(harness: HandlerHarness, causes: set[str]) -> list[tuple[Any, ...]]:
    """What was announced for ``causes``, in outbox order, without generated ids and times."""
    return [
        (e.causation_id, e.correlation_id, e.data.model_dump(exclude={"entry_id", "posted_at"}))
        for e in harness.published("finance.journal_entry.posted.v1")
        if e.data.causation_event_id in causes
    ]


def balances(harness: HandlerHarness) -> dict[tuple[str, str | None, str], Decimal]:
    with harness.database.sessions() as session:
        rows = session.execute(
            select(
                JournalLine.community_id,
                JournalLine.facility_id,
                JournalLine.account_code,
                func.sum(JournalLine.debit) - func.sum(JournalLine.credit),
            ).group_by(JournalLine.community_id, JournalLine.facility_id, JournalLine.account_code)
        ).all()
    return {(c, fac, a): Decimal(v) for c, fac, a, v in rows}


def charges(harness: HandlerHarness) -> list[tuple[Any, ...]]:
    with harness.database.sessions() as session:
        rows = session.scalars(select(InternalCharge).order_by(InternalCharge.id)).all()
        return [
            (c.source_key, c.kind, c.period, c.payer_facility_id, c.payee_facility_id, c.amount)
            for c in rows
        ]


def assert_same_books(pair: tuple[HandlerHarness, HandlerHarness], events: list[Any]) -> None:
    causes = {e.id for e in events}
    at_once, one = pair
    assert ledger(at_once, causes) == ledger(one, causes)
    assert announced(at_once, causes) == announced(one, causes)
    assert balances(at_once) == balances(one)
    assert charges(at_once) == charges(one)


# --- what the records are ----------------------------------------------------------------------

prices = st.integers(min_value=1, max_value=9_999_999).map(lambda c: Decimal(c).scaleb(-4))
moments = st.builds(
    lambda m, d, h: f.local(2026, m, d, h),
    st.integers(min_value=1, max_value=4),  # February is closed: its causes post in March
    st.integers(min_value=1, max_value=28),
    st.integers(min_value=0, max_value=23),
)


@st.composite
def dispensings(draw: st.DrawFn) -> PrescriptionDispensed:
    cost = draw(st.none() | prices)
    return f.dispensed(
        draw(FACILITIES),
        packs=draw(st.integers(min_value=1, max_value=60)),
        unit_price=str(draw(prices)),
        unit_cost=None if cost is None else str(cost),
        when=draw(moments),
    )


def receipt(facility: str, quantity: int, unit_cost: Decimal, when: datetime) -> StockReceived:
    return StockReceived(
        receipt_id=f.uid("RC"),
        facility_id=facility,
        drug_code="D-AMOX",
        lot_number="L1",
        expiry_date=date(2028, 1, 31),
        quantity=quantity,
        unit_cost=unit_cost,
        source=ReceiptSource.OPENING_BALANCE,
        received_at=when,
    )


def adjustment(facility: str, delta: int, unit_cost: Decimal, when: datetime) -> StockAdjusted:
    return StockAdjusted(
        adjustment_id=f.uid("ADJ"),
        facility_id=facility,
        drug_code="D-AMOX",
        lot_number="L1",
        expiry_date=date(2028, 1, 31),
        quantity_delta=delta,
        reason=AdjustmentReason.COUNT_CORRECTION,
        unit_cost=unit_cost,
        value_delta=(unit_cost * delta).quantize(Decimal("0.01")),
        adjusted_at=when,
    )


KINDS: dict[str, tuple[SetHandler, st.SearchStrategy[Any]]] = {
    "dispensing": (drugs.record_dispensing, dispensings()),
    "receipt": (
        drugs.record_receipt,
        st.builds(receipt, FACILITIES, st.integers(min_value=1, max_value=5000), prices, moments),
    ),
    "transfer": (
        drugs.record_transfer,
        st.builds(
            lambda a, b, packs, when: f.transfer(a, b, packs=packs, when=when),
            FACILITIES,
            FACILITIES,
            st.integers(min_value=1, max_value=500),
            moments,
        ),
    ),
    "write_off": (
        drugs.record_write_off,
        st.builds(
            lambda facility, c, when: f.written_off(
                facility, value=str(Decimal(c).scaleb(-2)), when=when
            ),
            FACILITIES,
            st.integers(min_value=0, max_value=500_000),
            moments,
        ),
    ),
    "adjustment": (
        drugs.record_adjustment,
        st.builds(
            adjustment, FACILITIES, st.integers(min_value=-300, max_value=300), prices, moments
        ),
    ),
}


@st.composite
def sets_of_records(draw: st.DrawFn) -> tuple[SetHandler, list[CloudEvent[Any]]]:
    """Records of one kind, some sent again under a new event id, some the very same event."""
    handler, payloads = KINDS[draw(st.sampled_from(sorted(KINDS)))]
    events: list[CloudEvent[Any]] = []
    for kind, n in draw(
        st.lists(
            st.tuples(
                st.sampled_from(["new", "new", "new", "resent", "again"]), st.integers(0, 40)
            ),
            min_size=1,
            max_size=25,
        )
    ):
        if kind == "new" or not events:
            events.append(event_of(draw(payloads)))
        elif kind == "resent":
            events.append(event_of(events[n % len(events)].data))
        else:
            events.append(events[n % len(events)])
    return handler, events


@settings(
    max_examples=30,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(drawn=sets_of_records())
def test_a_set_posts_what_its_records_post_one_at_a_time(
    books: tuple[HandlerHarness, HandlerHarness], drawn: tuple[SetHandler, list[Any]]
) -> None:
    handler, events = drawn
    at_once, one = books
    assert post_at_once(at_once, handler, events) == post_one_at_a_time(one, handler, events)
    assert_same_books(books, events)


# --- a bad record, a repeat, the consumer ------------------------------------------------------


def posted_causes(harness: HandlerHarness) -> list[str]:
    """The causes of the dispensing entries announced, in outbox order."""
    return [
        e.data.causation_event_id
        for e in harness.published("finance.journal_entry.posted.v1")
        if e.data.entry_type == "dispense"
    ]


def test_a_dispensing_at_a_closed_member_is_refused_alone_while_the_rest_post(
    finance: HandlerHarness,
) -> None:
    close_member(finance)
    events = [event_of(f.dispensed(m)) for m in ("QS-T01", CLOSED, "QS-H02", "QS-C05")]
    assert post_at_once(finance, drugs.record_dispensing, events) == {1: "unknown_facility"}
    assert posted_causes(finance) == [events[0].id, events[2].id, events[3].id]
    assert f.balance(finance, "4002", facility_id=CLOSED) == 0


def test_the_same_dispensing_twice_in_one_set_posts_once(finance: HandlerHarness) -> None:
    rx = f.dispensed("QS-T02", packs=3, unit_price="4.00", unit_cost="3.00")
    first, resent, other = event_of(rx), event_of(rx), event_of(f.dispensed("QS-T02"))
    post_at_once(finance, drugs.record_dispensing, [first, resent, first, other])
    assert posted_causes(finance) == [first.id, other.id]
    assert f.balance(finance, "4002", facility_id="QS-T02") == Decimal("-29.00")  # 12 + 17
    post_at_once(finance, drugs.record_dispensing, [event_of(rx)])  # and in a later set
    assert posted_causes(finance) == [first.id, other.id]


def test_a_member_not_known_yet_fails_the_set_and_alone_is_parked(finance: HandlerHarness) -> None:
    """The organisation's copy may only lag behind pharmacy: not refused (that would be
    final) but raised, so the consumer applies the set record by record and parks it."""
    events = [event_of(f.dispensed(m)) for m in ("QS-T01", "QS-NEW", "QS-T03")]
    with pytest.raises(NotYetKnown):
        post_at_once(finance, drugs.record_dispensing, events)
    assert posted_causes(finance) == []
    result = finance.apply(*events)
    assert result.parked == [events[1].id]
    assert posted_causes(finance) == [events[0].id, events[2].id]


def test_the_consumer_posts_a_batch_of_dispensings_as_a_set_in_record_order(
    finance: HandlerHarness,
) -> None:
    close_member(finance)
    members = [*MEMBERS[:8], CLOSED]
    events = [event_of(f.dispensed(members[n % len(members)])) for n in range(45)]
    result = finance.apply(*events)
    refused = [e.id for e in events if e.data.facility_id == CLOSED]
    assert result.dead_lettered == [(event_id, "unknown_facility") for event_id in refused]
    assert posted_causes(finance) == [e.id for e in events if e.id not in refused]
    assert set(f.totals_by_book(finance).values()) == {Decimal(0)}


def test_a_set_of_dispensings_costs_a_few_statements_besides_its_announcements(
    finance: HandlerHarness,
) -> None:
    """Before sets, each dispensing cost about ten statements through the consumer (its
    savepoint, its claim, the source-key look-up, the entry, its lines, the announcement)."""
    events = [
        event_of(f.dispensed(MEMBERS[n % 6], when=f.local(2026, 3 + n % 2, 1 + n % 27)))
        for n in range(300)
    ]
    statements: list[str] = []
    engine = finance.database.engine
    sa_event.listen(engine, "before_cursor_execute", _recorder(statements))
    result = finance.apply(*events)
    assert len(result.applied) == 300
    besides_outbox = [s for s in statements if "outbox" not in s]
    assert len(besides_outbox) <= 20, besides_outbox  # each new period costs three
    assert len(statements) - len(besides_outbox) <= 300  # at most one a posting


def _recorder(statements: list[str]) -> Callable[..., None]:
    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    return record
