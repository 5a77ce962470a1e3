"""Building blocks of the reporting service's tests: the seed organisation, source events of
every domain, and the known batch of visits, prescriptions and referrals whose indicator
values the tests compute by hand.

Times are instants; the county's calendar is Asia/Shanghai (UTC+8), so 2026-11-01T23:30Z is
the morning of 2 November there.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from libs.events import CloudEvent, Payload, new_event
from libs.events.catalogue.finance import ClaimValued
from libs.events.catalogue.ingestion import PrescriptionIssued, PrescriptionLine, VisitRecorded
from libs.events.catalogue.organisation import FacilityRegistered
from libs.events.catalogue.pharmacy import ExpiryScanned, Restocked, ShortageRecorded, StockedOut
from libs.events.catalogue.referral import ReferralRequested, ReferralSlaBreached
from libs.events.catalogue.staffing import SessionDelivered, StationingEnded, StationingStarted
from libs.events.catalogue.values import (
    FacilityTier,
    HalfDay,
    InsuranceType,
    PrescriptionCategory,
    ReferralDirection,
    ReferralPriority,
    VisitType,
)
from libs.events.provenance import producer_source
from libs.platform.clock import CountyClock
from libs.platform.settings import REPO_ROOT
from services.administration.domain.organisation import parse_county
from services.reporting.domain.rules import County
from services.reporting.service_layer.unit_of_work import ReportingUnitOfWork

PATIENT = "b" * 64
SHANGHAI = ZoneInfo("Asia/Shanghai")
COUNTY = County("QS", CountyClock(SHANGHAI))
REPORTING_UOW = partial(ReportingUnitOfWork, county=COUNTY)
SEED_FACILITIES = 23

#: 07:30 on 2 November and 00:30 on 3 November, county time.
D1 = datetime(2026, 11, 1, 23, 30, tzinfo=UTC)
D2 = datetime(2026, 11, 2, 16, 30, tzinfo=UTC)

_serial = itertools.count(1)


def serial(prefix: str) -> str:
    return f"{prefix}-{next(_serial):05d}"


def event(payload: Payload, *, source: str | None = None) -> CloudEvent[Any]:
    """``payload`` as its producer publishes it (another ``source`` forges it)."""
    return new_event(payload, source=source or producer_source(payload))


def seed_organisation() -> list[CloudEvent[Any]]:
    """The seed county's communities and facilities as administration publishes them."""
    doc = yaml.safe_load((REPO_ROOT / "infra" / "county" / "seed-county.yaml").read_text("utf-8"))
    county = parse_county(doc)
    payloads: list[Payload] = [
        *county.communities,
        *(FacilityRegistered(**f.model_dump()) for f in county.facilities),
    ]
    return [event(p, source="/services/administration") for p in payloads]


def visit(
    facility_id: str,
    at: datetime,
    *,
    tier: FacilityTier = FacilityTier.PRIMARY,
    in_county: bool = True,
    insured_in_county: bool = True,
    insurance: InsuranceType = InsuranceType.URBAN_RURAL_RESIDENT,
) -> CloudEvent[Any]:
    return event(
        VisitRecorded(
            visit_id=serial("V"),
            facility_id=facility_id,
            facility_tier=tier,
            facility_in_county=in_county,
            patient_pseudonym=PATIENT,
            insurance_type=insurance,
            insured_in_county=insured_in_county,
            visit_type=VisitType.OUTPATIENT,
            total_amount=Decimal("120.00"),
            eligible_amount=Decimal("100.00"),
            occurred_at=at,
        ),
    )


def prescription(facility_id: str, category: PrescriptionCategory, at: datetime) -> CloudEvent[Any]:
    return event(
        PrescriptionIssued(
            prescription_id=serial("RX"),
            facility_id=facility_id,
            facility_tier=FacilityTier.PRIMARY,
            patient_pseudonym=PATIENT,
            category=category,
            lines=[PrescriptionLine(line_no=1, drug_code="D-1", quantity=1)],
            total_amount=Decimal("30.00"),
            issued_at=at,
        ),
    )


def _referral_ref(direction: ReferralDirection, sender: str, receiver: str) -> dict[str, Any]:
    return {
        "referral_id": serial("REF"),
        "direction": direction,
        "from_facility_id": sender,
        "to_facility_id": receiver,
        "priority": ReferralPriority.ROUTINE,
    }


def referral(
    direction: ReferralDirection, sender: str, receiver: str, at: datetime
) -> CloudEvent[Any]:
    return event(
        ReferralRequested(
            **_referral_ref(direction, sender, receiver),
            patient_pseudonym=PATIENT,
            reason_code="beyond_capacity",
            accept_due_at=at + timedelta(days=2),
            requested_at=at,
        ),
        source="/services/referral",
    )


def breach(sender: str, receiver: str, at: datetime) -> CloudEvent[Any]:
    return event(
        ReferralSlaBreached(
            **_referral_ref(ReferralDirection.UP, sender, receiver),
            stage="acceptance",
            due_at=at - timedelta(minutes=1),
            breached_at=at,
            escalated_to_role="department_head",
        ),
        source="/services/referral",
    )


def known_batch() -> list[CloudEvent[Any]]:
    """Visits, prescriptions and referrals whose indicators the tests work out by hand."""
    up, down = ReferralDirection.UP, ReferralDirection.DOWN
    tcm_herbal, tcm_patent = PrescriptionCategory.TCM_HERBAL, PrescriptionCategory.TCM_PATENT
    western = PrescriptionCategory.WESTERN
    return [
        # visits: county insurees unless said otherwise
        visit("QS-T01", D1),
        visit("QS-T01", D1),
        visit("QS-H01", D1, tier=FacilityTier.TERTIARY),
        visit("QS-T05", D1),
        visit("QS-H02", D1, tier=FacilityTier.SECONDARY, insurance=InsuranceType.SELF_PAY),
        visit("OUT-9", D1, tier=FacilityTier.TERTIARY, in_county=False),
        visit("QS-C04", D2, insured_in_county=False),
        visit("OUT-9", D2, tier=FacilityTier.TERTIARY, in_county=False),
        # prescriptions
        prescription("QS-T01", tcm_herbal, D1),
        prescription("QS-T01", western, D1),
        prescription("QS-T01", tcm_patent, D1),
        prescription("QS-H01", western, D1),
        prescription("QS-T05", tcm_patent, D1),
        prescription("QS-T05", western, D2),
        # referrals and breaches
        referral(up, "QS-T01", "QS-H01", D1),
        referral(up, "QS-T02", "QS-H01", D1),
        referral(down, "QS-H01", "QS-T01", D1),
        referral(down, "QS-H01", "QS-T03", D1),
        referral(down, "QS-H01", "QS-C01", D1),
        referral(down, "QS-H02", "QS-T05", D1),
        referral(up, "QS-T05", "QS-H02", D2),
        breach("QS-T01", "QS-H01", D1),
        breach("QS-T05", "QS-H02", D2),
    ]


def stocked_out(facility_id: str, drug: str, at: datetime) -> CloudEvent[Any]:
    return event(
        StockedOut(facility_id=facility_id, drug_code=drug, occurred_at=at),
        source="/services/pharmacy",
    )


def restocked(facility_id: str, drug: str, at: datetime) -> CloudEvent[Any]:
    return event(
        Restocked(facility_id=facility_id, drug_code=drug, available_quantity=5, occurred_at=at),
        source="/services/pharmacy",
    )


def shortage(facility_id: str, at: datetime) -> CloudEvent[Any]:
    return event(
        ShortageRecorded(
            shortage_id=serial("SH"),
            facility_id=facility_id,
            drug_code="D-1",
            quantity_short=2,
            recorded_at=at,
        ),
        source="/services/pharmacy",
    )


def expiry_scan(facility_id: str, day: date, value: str) -> CloudEvent[Any]:
    return event(
        ExpiryScanned(
            facility_id=facility_id,
            scanned_on=day,
            horizon_days=180,
            near_expiry_value=Decimal(value),
            expired_value=Decimal("0.00"),
            scanned_at=datetime.combine(day, datetime.min.time(), tzinfo=SHANGHAI),
        ),
        source="/services/pharmacy",
    )


def claim(
    community_id: str,
    payout: str,
    at: datetime,
    *,
    in_county: bool = True,
    budget_total: str = "3650000.00",
) -> CloudEvent[Any]:
    amount = Decimal(payout)
    return event(
        ClaimValued(
            claim_id=serial("CL"),
            visit_id=serial("V"),
            facility_id="QS-T01" if in_county else "OUT-9",
            facility_tier=FacilityTier.PRIMARY,
            facility_in_county=in_county,
            insurance_type=InsuranceType.URBAN_RURAL_RESIDENT,
            eligible_amount=amount,
            reimbursement_ratio=Decimal("1"),
            fund_payout=amount,
            patient_copay=Decimal("0.00"),
            community_id=community_id,
            period=f"{at.astimezone(SHANGHAI):%Y-%m}",
            budget_id=f"B-{community_id}",
            budget_consumed=amount,
            budget_total=Decimal(budget_total),
            occurred_at=at,
            valued_at=at,
        ),
        source="/services/finance",
    )


def session_delivered(
    host: str, day: date, patients: int, *, home: str = "QS-H01", home_visits: int = 0
) -> CloudEvent[Any]:
    return event(
        SessionDelivered(
            session_id=serial("SES"),
            staff_id="S-1",
            home_facility_id=home,
            facility_id=host,
            date=day,
            half_day=HalfDay.MORNING,
            patients_seen=patients,
            home_visits=home_visits,
            checked_in_at=datetime.combine(day, datetime.min.time(), tzinfo=SHANGHAI),
            checked_out_at=datetime.combine(day, datetime.max.time(), tzinfo=SHANGHAI),
        ),
        source="/services/staffing",
    )


def stationing_started(
    stationing_id: str, host: str, start: date, planned_end: date
) -> CloudEvent[Any]:
    return event(
        StationingStarted(
            stationing_id=stationing_id,
            staff_id="S-2",
            home_facility_id="QS-H01",
            facility_id=host,
            start_date=start,
            planned_end_date=planned_end,
            started_at=D1,
        ),
        source="/services/staffing",
    )


def stationing_ended(stationing_id: str, host: str, end: date) -> CloudEvent[Any]:
    return event(
        StationingEnded(
            stationing_id=stationing_id, staff_id="S-2", facility_id=host, end_date=end, ended_at=D2
        ),
        source="/services/staffing",
    )
