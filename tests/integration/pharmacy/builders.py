"""Building a pharmacy world for tests: the organisation, drugs, stock, prescriptions.

Everything goes through the service's real handlers and use cases on a real database.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from sqlalchemy import select

from libs.events import CloudEvent
from libs.events.catalogue.ingestion import PrescriptionIssued, PrescriptionLine
from libs.events.catalogue.organisation import CommunityRegistered, FacilityRegistered
from libs.events.catalogue.pharmacy import DrugSnapshot
from libs.events.catalogue.values import (
    FacilityTier,
    FacilityType,
    PrescriptionCategory,
)
from libs.platform.clock import CountyClock
from services.pharmacy.adapters.schema import StockCardLine, StockLot
from services.pharmacy.domain.policy import Policy
from services.pharmacy.domain.stock import CardKind, CardSummary, summarise
from services.pharmacy.service_layer import formulary, stock
from services.pharmacy.service_layer.unit_of_work import PharmacyUnitOfWork
from tests.support.harness import HandlerHarness, event_of

PATIENT = "b" * 64
ALL_TYPES = list(FacilityType)
NO_VILLAGE: list[FacilityType] = [t for t in FacilityType if t is not FacilityType.VILLAGE_CLINIC]


def _county_clock() -> CountyClock:
    """The service's clock in these tests: real time running on, but set back so that the county
    reads 01:00 when the tests start. The county's date then cannot change during a run (a suite
    started at 23:59 would otherwise see ``TODAY`` and the service's today disagree), and being
    behind real time, nothing it stamps is ever "future-dated"."""
    zone = CountyClock().zone
    started = datetime.now(UTC)
    local = started.astimezone(zone)
    one_am = local.replace(hour=1, minute=0, second=0, microsecond=0)
    lag = local - one_am if local >= one_am else local - (one_am - timedelta(days=1))
    return CountyClock(zone, lambda: datetime.now(UTC) - lag)


CLOCK = _county_clock()
"""The county's clock of every pharmacy test and of the service under test."""
now = CLOCK.now
TODAY = CLOCK.today()  # the county's date, as the service sees it


def pharmacy(
    url: str, *, policy: Policy | None = None, clock: CountyClock | None = None
) -> HandlerHarness:
    """The pharmacy's real handlers on a migrated database of the test's kind."""
    return HandlerHarness(
        "pharmacy",
        url,
        units_of_work=partial(PharmacyUnitOfWork, policy=policy, clock=clock or CLOCK),
    )


def uow(harness: HandlerHarness) -> PharmacyUnitOfWork:
    unit = harness.uow()
    assert isinstance(unit, PharmacyUnitOfWork)
    return unit


def uows(harness: HandlerHarness) -> Callable[[], PharmacyUnitOfWork]:
    """A factory of the harness's units of work, as the worker hands them to jobs."""
    return lambda: uow(harness)


class World:
    """One community (its own ids, so tests can share a database): a lead hospital, a
    township centre and a village clinic under it."""

    def __init__(self, harness: HandlerHarness, tag: str | None = None) -> None:
        self.harness = harness
        self.tag = tag or uuid.uuid4().hex[:8].upper()
        self.community = f"MC-{self.tag}"
        self.hospital = f"H-{self.tag}"
        self.township = f"T-{self.tag}"
        self.village = f"V-{self.tag}"

    def organisation(self) -> World:
        self.harness.apply(
            event_of(
                CommunityRegistered(
                    community_id=self.community,
                    name="测试医共体",
                    county_code="QS",
                    lead_facility_id=self.hospital,
                )
            ),
            self.facility(self.hospital, FacilityTier.TERTIARY, FacilityType.COUNTY_HOSPITAL),
            self.facility(self.township, FacilityTier.PRIMARY, FacilityType.TOWNSHIP_CENTRE),
            self.facility(self.village, FacilityTier.PRIMARY, FacilityType.VILLAGE_CLINIC),
        )
        return self

    def facility(
        self, facility_id: str, tier: FacilityTier, kind: FacilityType
    ) -> CloudEvent[FacilityRegistered]:
        return event_of(
            FacilityRegistered(
                facility_id=facility_id,
                name=f"机构{facility_id}",
                community_id=self.community,
                county_code="QS",
                tier=tier,
                facility_type=kind,
            ),
            source="/services/staffing",
        )

    def drug(
        self,
        suffix: str,
        price: str = "10.0000",
        *,
        holders: list[FacilityType] | None = None,
        **fields: Any,
    ) -> str:
        """List a drug (code ``D-<tag>-<suffix>``) and return its code."""
        code = f"D-{self.tag}-{suffix}"
        formulary.list_drug(uow(self.harness), snapshot(code, price, holders=holders, **fields))
        return code

    def receive(
        self,
        facility_id: str,
        drug_code: str,
        lot: str,
        quantity: int,
        *,
        expires: date | None = None,
        cost: str | None = None,
    ) -> None:
        stock.receive_stock(
            uow(self.harness),
            facility_id,
            stock.Receipt(
                drug_code=drug_code,
                lot_number=lot,
                expiry_date=expires or TODAY + timedelta(days=365),
                quantity=quantity,
                unit_cost=Decimal(cost) if cost else None,
            ),
        )


def snapshot(
    code: str, price: str = "10.0000", *, holders: list[FacilityType] | None = None, **fields: Any
) -> DrugSnapshot:
    values: dict[str, Any] = {
        "drug_code": code,
        "name": f"药品{code}",
        "dosage_form": "片剂",
        "strength": "10mg",
        "pack_size": 30,
        "unit": "盒",
        "unit_price": Decimal(price),
        "essential": True,
        "tcm": False,
        "allowed_tiers": list(FacilityTier),
        "allowed_facility_types": holders or ALL_TYPES,
    }
    values.update(fields)
    return DrugSnapshot(**values)


def prescription(
    facility_id: str,
    *lines: tuple[str, int],
    prescription_id: str | None = None,
    patient: str = PATIENT,
    tier: FacilityTier = FacilityTier.PRIMARY,
) -> CloudEvent[PrescriptionIssued]:
    return event_of(
        PrescriptionIssued(
            prescription_id=prescription_id or f"RX-{uuid.uuid4().hex[:12]}",
            facility_id=facility_id,
            facility_tier=tier,
            patient_pseudonym=patient,
            category=PrescriptionCategory.WESTERN,
            lines=[
                PrescriptionLine(line_no=n, drug_code=code, quantity=quantity)
                for n, (code, quantity) in enumerate(lines, start=1)
            ],
            total_amount=Decimal("0.00"),
            issued_at=now(),
        ),
    )


def lots(harness: HandlerHarness, facility_id: str, drug_code: str) -> dict[str, int]:
    """Lot number → on hand."""
    with harness.database.sessions() as session:
        return {
            row.lot_number: row.on_hand
            for row in session.scalars(
                select(StockLot).where(
                    StockLot.facility_id == facility_id, StockLot.drug_code == drug_code
                )
            )
        }


def card(harness: HandlerHarness, facility_id: str, drug_code: str) -> CardSummary:
    """The facility's stock card of the drug summarised against what its lots hold."""
    with harness.database.sessions() as session:
        lines = list(
            session.scalars(
                select(StockCardLine).where(
                    StockCardLine.facility_id == facility_id,
                    StockCardLine.drug_code == drug_code,
                )
            )
        )
    closing = sum(lots(harness, facility_id, drug_code).values())
    return summarise(0, [(CardKind(line.kind), line.quantity) for line in lines], closing)


def data_of(events: Iterable[CloudEvent[Any]], **match: Any) -> list[Any]:
    """The payloads of ``events`` whose fields equal ``match``."""
    return [e.data for e in events if all(getattr(e.data, k) == v for k, v in match.items())]
