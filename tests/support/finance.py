"""Building blocks for finance tests: the seed policy, the seed organisation as events, and
events of the kinds finance consumes, with sensible defaults."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select

from libs.events import CloudEvent, Payload
from libs.events.catalogue.ingestion import VisitRecorded
from libs.events.catalogue.organisation import FacilityRegistered
from libs.events.catalogue.pharmacy import (
    DispensedLine,
    LotQuantity,
    PrescriptionDispensed,
    ShippedLine,
    StockWrittenOff,
    TransferReceived,
)
from libs.events.catalogue.referral import ReferralCompleted
from libs.events.catalogue.staffing import SessionDelivered
from libs.events.catalogue.values import (
    FacilityTier,
    InsuranceType,
    PrescriptionCategory,
    ReferralDirection,
    ReferralPriority,
    VisitType,
)
from libs.events.envelope import utc_now
from libs.platform.clock import CountyClock
from services.administration.domain.organisation import parse_county
from services.finance.adapters.schema import JournalLine
from services.finance.domain.periods import period_of
from services.finance.domain.policy import FinancePolicy, parse_policy
from services.finance.service_layer.unit_of_work import FinanceUnitOfWork
from tests.support.harness import HandlerHarness, event_of

REPO_ROOT = Path(__file__).resolve().parents[2]
SEED_POLICY = REPO_ROOT / "infra" / "finance" / "policy.yaml"
SEED_COUNTY = REPO_ROOT / "infra" / "county" / "seed-county.yaml"
PSEUDONYM = "b" * 64

#: A moment in the seed county's local time (UTC+8).
CST = timedelta(hours=8)
#: The seed county's clock (its zone is the platform's default, Asia/Shanghai).
COUNTY_CLOCK = CountyClock.of("Asia/Shanghai")


def local(year: int, month: int, day: int, hour: int = 10) -> datetime:
    """An instant given in the county's local time, as UTC."""
    return datetime(year, month, day, hour, tzinfo=UTC) - CST


def current_period() -> str:
    """The county's current accounting period (tests must not assume today's date)."""
    return period_of(utc_now(), COUNTY_CLOCK)


def policy_doc() -> dict[str, Any]:
    """The seed policy document, to change in a test."""
    doc: dict[str, Any] = yaml.safe_load(SEED_POLICY.read_text(encoding="utf-8"))
    return copy.deepcopy(doc)


def finance_policy(change: Callable[[dict[str, Any]], None] | None = None) -> FinancePolicy:
    """The seed policy plus 2025 budgets (whose year has ended), optionally changed."""
    doc = policy_doc()
    doc["bundle"]["budgets"] += [
        {"community_id": "QS-MC1", "year": 2025, "total": "1000000.00", "prepayment": "100000.00"},
        {"community_id": "QS-MC2", "year": 2025, "total": "800000.00", "prepayment": "80000.00"},
    ]
    if change is not None:
        change(doc)
    return parse_policy(doc)


def organisation_events() -> list[CloudEvent[Payload]]:
    """The seed county's communities and facilities, as administration publishes them."""
    county = parse_county(yaml.safe_load(SEED_COUNTY.read_text(encoding="utf-8")))
    events: list[CloudEvent[Payload]] = [
        event_of(c, source="/services/administration") for c in county.communities
    ]
    events += [
        event_of(FacilityRegistered(**f.model_dump()), source="/services/administration")
        for f in county.facilities
    ]
    return events


def finance_harness(
    url: str, policy: FinancePolicy | None = None, clock: CountyClock = COUNTY_CLOCK
) -> HandlerHarness:
    """The finance handlers on a migrated database, with the seed organisation applied."""
    harness = HandlerHarness(
        "finance",
        url,
        units_of_work=partial(FinanceUnitOfWork, policy=policy or finance_policy(), clock=clock),
    )
    harness.apply(*organisation_events())
    return harness


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def visit(
    facility_id: str = "QS-T01",
    *,
    eligible: str = "100.00",
    total: str | None = None,
    tier: FacilityTier = FacilityTier.PRIMARY,
    insurance: InsuranceType = InsuranceType.URBAN_RURAL_RESIDENT,
    in_county: bool = True,
    insured_in_county: bool = True,
    when: datetime | None = None,
    visit_id: str | None = None,
) -> VisitRecorded:
    return VisitRecorded(
        visit_id=visit_id or uid("V"),
        facility_id=facility_id,
        facility_tier=tier,
        facility_in_county=in_county,
        patient_pseudonym=PSEUDONYM,
        insurance_type=insurance,
        insured_in_county=insured_in_county,
        visit_type=VisitType.OUTPATIENT,
        total_amount=Decimal(total or eligible),
        eligible_amount=Decimal(eligible),
        occurred_at=when or local(2026, 3, 10),
    )


def transfer(
    from_facility: str = "QS-H01",
    to_facility: str = "QS-T01",
    *,
    packs: int = 10,
    unit_price: str = "12.3456",
    unit_cost: str | None = None,
    when: datetime | None = None,
    transfer_id: str | None = None,
) -> TransferReceived:
    price = Decimal(unit_price)
    lot = LotQuantity(
        lot_number="L1",
        expiry_date=date(2028, 1, 31),
        quantity=packs,
        unit_cost=Decimal(unit_cost) if unit_cost else None,
    )
    return TransferReceived(
        transfer_id=transfer_id or uid("T"),
        from_facility_id=from_facility,
        to_facility_id=to_facility,
        lines=[ShippedLine(drug_code="D-AMOX", unit_price=price, lots=[lot])],
        total_value=(price * packs).quantize(Decimal("0.01")),
        received_at=when or local(2026, 3, 12),
    )


def dispensed(
    facility_id: str = "QS-T01",
    *,
    packs: int = 2,
    unit_price: str = "8.50",
    unit_cost: str | None = "6.00",
    when: datetime | None = None,
) -> PrescriptionDispensed:
    price = Decimal(unit_price)
    amount = (price * packs).quantize(Decimal("0.01"))
    lots = [
        LotQuantity(
            lot_number="L7",
            expiry_date=date(2027, 6, 30),
            quantity=packs,
            unit_cost=Decimal(unit_cost) if unit_cost else None,
        )
    ]
    return PrescriptionDispensed(
        prescription_id=uid("RX"),
        facility_id=facility_id,
        category=PrescriptionCategory.WESTERN,
        lines=[
            DispensedLine(
                line_no=1,
                drug_code="D-MET",
                quantity_prescribed=packs,
                quantity_dispensed=packs,
                unit_price=price,
                amount=amount,
                lots=lots,
            )
        ],
        total_amount=amount,
        complete=True,
        dispensed_at=when or local(2026, 3, 11),
    )


def written_off(facility_id: str = "QS-T02", *, value: str = "45.60", when=None) -> StockWrittenOff:
    return StockWrittenOff(
        write_off_id=uid("W"),
        facility_id=facility_id,
        drug_code="D-AMOX",
        lot_number="L0",
        expiry_date=date(2026, 2, 28),
        quantity=4,
        unit_cost=Decimal("11.40"),
        value=Decimal(value),
        reason="expired",
        written_off_at=when or local(2026, 3, 2),
    )


def referral(
    from_facility: str = "QS-T01",
    to_facility: str = "QS-H01",
    *,
    direction: ReferralDirection = ReferralDirection.UP,
    priority: ReferralPriority = ReferralPriority.ROUTINE,
    when: datetime | None = None,
) -> ReferralCompleted:
    return ReferralCompleted(
        referral_id=uid("R"),
        direction=direction,
        from_facility_id=from_facility,
        to_facility_id=to_facility,
        priority=priority,
        record_returned=True,
        completed_at=when or local(2026, 3, 15),
    )


def session(
    staff_id: str = "S-CARD-01",
    *,
    home: str = "QS-H01",
    at: str = "QS-T03",
    patients: int = 12,
    home_visits: int = 1,
    day: date = date(2026, 3, 17),
) -> SessionDelivered:
    checked_in = datetime(day.year, day.month, day.day, 0, 30, tzinfo=UTC)
    return SessionDelivered(
        session_id=uid("SES"),
        staff_id=staff_id,
        home_facility_id=home,
        facility_id=at,
        date=day,
        half_day="morning",
        patients_seen=patients,
        home_visits=home_visits,
        checked_in_at=checked_in,
        checked_out_at=checked_in + timedelta(hours=3),
    )


def lines(harness: HandlerHarness, **where: Any) -> Iterator[JournalLine]:
    with harness.database.sessions() as session:
        query = select(JournalLine)
        for name, value in where.items():
            query = query.where(getattr(JournalLine, name) == value)
        yield from session.scalars(query.order_by(JournalLine.id))


def totals_by_book(harness: HandlerHarness) -> dict[tuple[str, str | None], Decimal]:
    """Debits minus credits per book, summed in the database (zero for a balanced ledger)."""
    with harness.database.sessions() as session:
        rows = session.execute(
            select(
                JournalLine.community_id,
                JournalLine.facility_id,
                func.sum(JournalLine.debit),
                func.sum(JournalLine.credit),
            ).group_by(JournalLine.community_id, JournalLine.facility_id)
        ).all()
    return {(c, f): Decimal(d) - Decimal(k) for c, f, d, k in rows}


def balance(harness: HandlerHarness, account: str, **book: Any) -> Decimal:
    """Debit minus credit of one account (in one book, if named)."""
    with harness.database.sessions() as session:
        query = select(func.sum(JournalLine.debit), func.sum(JournalLine.credit)).where(
            JournalLine.account_code == account
        )
        for name, value in book.items():
            query = query.where(getattr(JournalLine, name) == value)
        debit, credit = session.execute(query).one()
    return Decimal(debit or 0) - Decimal(credit or 0)


def fuow(harness: HandlerHarness) -> FinanceUnitOfWork:
    """A finance unit of work on the harness's database, for calling use cases directly."""
    uow = harness.uow()
    assert isinstance(uow, FinanceUnitOfWork)
    return uow
