"""An in-memory stand-in for the referral records and unit of work (no database): what a
use case stored, published and whether it committed."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from libs.directory import KnownFacility
from libs.events.catalogue.values import FacilityTier, FacilityType
from services.referral.adapters.schema import FormularyDrug, Referral, TimelineEntry
from services.referral.config import ReferralConfig
from services.referral.domain.capacity import DayCapacity
from services.referral.service_layer.unit_of_work import ReferralUnitOfWork
from tests.support.kept_outbox import KeptOutbox

__all__ = ["FakeReferralUnitOfWork", "FakeReferrals", "facility", "listed_drug"]


def facility(
    facility_id: str,
    facility_type: FacilityType,
    tier: FacilityTier,
    departments: Iterable[tuple[str, str]] = (),
) -> KnownFacility:
    """A member facility as the directory keeps it; ``departments`` as (id, specialty)."""
    return KnownFacility(
        facility_id=facility_id,
        name=facility_id,
        community_id="C-1",
        county_code="320412",
        tier=tier.value,
        facility_type=facility_type.value,
        departments=[{"department_id": d, "specialty": s} for d, s in departments],
        active=True,
        as_of=datetime(2026, 1, 1, tzinfo=UTC),
    )


def listed_drug(code: str, *tiers: FacilityTier) -> FormularyDrug:
    return FormularyDrug(
        drug_code=code,
        name=code,
        allowed_tiers=[t.value for t in tiers],
        listed=True,
        as_of=datetime(2026, 1, 1, tzinfo=UTC),
    )


class FakeReferrals:
    """The referral records, in lists and dicts."""

    def __init__(self) -> None:
        self.facilities: dict[str, KnownFacility] = {}
        self.drugs: dict[str, FormularyDrug] = {}
        self.capacity: dict[tuple[str, str], list[DayCapacity]] = {}
        self.referrals: list[Referral] = []
        self.timeline: list[TimelineEntry] = []

    def facility(self, facility_id: str) -> KnownFacility | None:
        return self.facilities.get(facility_id)

    def drug(self, drug_code: str) -> FormularyDrug | None:
        return self.drugs.get(drug_code)

    def capacity_days(
        self, facility_id: str, department_id: str, start: date, end: date
    ) -> list[DayCapacity]:
        days = self.capacity.get((facility_id, department_id), [])
        return sorted((d for d in days if start <= d.day <= end), key=lambda d: d.day)

    def add(self, record: Referral | TimelineEntry) -> None:
        if isinstance(record, Referral):
            self.referrals.append(record)
        else:
            self.timeline.append(record)


def _no_database() -> Session:
    raise AssertionError("a unit test's use case reached for the database")


class FakeReferralUnitOfWork(KeptOutbox, ReferralUnitOfWork):
    """The referral unit of work over :class:`FakeReferrals`: events are kept, not staged."""

    def __init__(self, config: ReferralConfig, records: FakeReferrals | None = None) -> None:
        super().__init__(_no_database, source="/services/referral", config=config)
        self.records = records or FakeReferrals()
        self.keep_events()

    @property
    def referrals(self) -> FakeReferrals:
        return self.records
