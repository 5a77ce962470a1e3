"""An in-memory unit of work for the pharmacy's use cases: the repositories' interfaces
(``adapters/repository.py``) kept in dictionaries, events collected instead of staged."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, Self, cast

from libs.directory import KnownFacility
from libs.events.catalogue.pharmacy import DrugSnapshot
from libs.events.catalogue.values import FacilityTier, FacilityType
from libs.events.payload import Payload
from libs.platform.clock import CountyClock
from services.pharmacy.adapters.repository import Records, StockItems, Transfers
from services.pharmacy.adapters.schema import (
    AwaitingReviewRow,
    PrescriptionRow,
    ReviewPolicyRow,
    ShortageRow,
)
from services.pharmacy.domain.formulary import Drug
from services.pharmacy.domain.items import StockItem
from services.pharmacy.domain.policy import Policy
from services.pharmacy.domain.replenishment import ItemHistory
from services.pharmacy.domain.stock import LotBalance
from services.pharmacy.domain.transfers import Transfer
from services.pharmacy.service_layer.unit_of_work import PharmacyUnitOfWork

NOW = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)  # 10:00 in the county
TODAY = date(2026, 11, 22)
CENTRE = "F-CENTRE"


class FakeStockItems:
    def __init__(self) -> None:
        self.stored: dict[tuple[str, str], StockItem] = {}
        self.posted: list[tuple[str, str, str, int]] = []  # facility, drug, lot, quantity

    def put(self, item: StockItem) -> None:
        self.stored[(item.facility_id, item.drug_code)] = item

    def lock(
        self, facility_id: str, drug_codes: Iterable[str], now: datetime
    ) -> dict[str, StockItem]:
        for code in sorted(set(drug_codes)):
            self.stored.setdefault((facility_id, code), StockItem(facility_id, code))
        # A copy, as a database would hand out: only save() changes what is stored.
        return {
            code: copy.deepcopy(self.stored[(facility_id, code)])
            for code in sorted(set(drug_codes))
        }

    def lock_many(
        self, keys: Iterable[tuple[str, str]], now: datetime
    ) -> dict[tuple[str, str], StockItem]:
        found: dict[tuple[str, str], StockItem] = {}
        for facility_id, code in sorted(set(keys)):
            found[(facility_id, code)] = self.lock(facility_id, [code], now)[code]
        return found

    def save(self, items: Iterable[StockItem], now: datetime) -> None:
        for item in items:
            for m in item.movements:
                self.posted.append((item.facility_id, item.drug_code, m.lot_number, m.quantity))
            item.movements.clear()
            item.added.clear()
            self.put(copy.deepcopy(item))


class FakeTransfers:
    def __init__(self) -> None:
        self.stored: dict[str, Transfer] = {}

    def lock(self, transfer_id: str) -> Transfer | None:
        found = self.stored.get(transfer_id)
        return copy.deepcopy(found) if found is not None else None

    def save(self, transfer: Transfer) -> None:
        self.stored[transfer.transfer_id] = copy.deepcopy(transfer)


class FakeRecords:
    def __init__(self) -> None:
        self.formulary: dict[str, Drug] = {}
        self.prescriptions: dict[str, PrescriptionRow] = {}
        self.policies: dict[str, ReviewPolicyRow] = {}
        self.awaiting: dict[str, AwaitingReviewRow] = {}
        self.shortages: list[ShortageRow] = []
        self.resolved: list[tuple[str, str]] = []

    def drugs(self, drug_codes: Iterable[str]) -> dict[str, Drug]:
        return {code: self.formulary[code] for code in drug_codes if code in self.formulary}

    def handled_prescriptions(self, prescription_ids: Iterable[str]) -> set[str]:
        return {p for p in prescription_ids if p in self.prescriptions}

    def remember_prescription(self, row: PrescriptionRow) -> None:
        self.prescriptions[row.prescription_id] = row

    def review_policies(self) -> dict[str, frozenset[str]]:
        return {c: frozenset(p.review_before_dispensing) for c, p in self.policies.items()}

    def keep_review_policy(self, row: ReviewPolicyRow) -> bool:
        kept = self.policies.get(row.county_code)
        if kept is not None and row.published_at <= kept.published_at:
            return False
        self.policies[row.county_code] = row
        return True

    def awaiting_review(self, prescription_ids: Iterable[str]) -> set[str]:
        return {p for p in prescription_ids if p in self.awaiting}

    def hold_for_review(self, row: AwaitingReviewRow) -> None:
        assert row.prescription_id not in self.awaiting, "held twice"
        self.awaiting[row.prescription_id] = row

    def end_review_wait(self, prescription_ids: Iterable[str]) -> None:
        for p in prescription_ids:
            del self.awaiting[p]

    def add_shortage(self, row: ShortageRow) -> None:
        self.shortages.append(row)

    def resolve_shortages(self, facility_id: str, drug_code: str, now: datetime) -> None:
        self.resolved.append((facility_id, drug_code))

    def central_pharmacy_of(self, facility: KnownFacility) -> str | None:
        return CENTRE

    def open_transfer_drugs(self, facility_ids: Iterable[str]) -> dict[str, set[str]]:
        return {facility_id: set() for facility_id in facility_ids}

    def item_histories(
        self, keys: Iterable[tuple[str, str]], since: date
    ) -> dict[tuple[str, str], ItemHistory]:
        return {key: ItemHistory() for key in keys}


class FakeDirectory:
    def __init__(self) -> None:
        self.facilities: dict[str, KnownFacility] = {}

    def get(self, facility_id: str) -> KnownFacility | None:
        return self.facilities.get(facility_id)

    def require(self, facility_id: str) -> KnownFacility:
        facility = self.facilities.get(facility_id)
        assert facility is not None, f"the test did not register {facility_id}"
        return facility


# The fakes keep to the interfaces the service layer is written against (mypy checks it).
_ITEMS: StockItems = FakeStockItems()
_TRANSFERS: Transfers = FakeTransfers()
_RECORDS: Records = FakeRecords()


class FakeUnitOfWork:
    """Stands in for :class:`PharmacyUnitOfWork` (only what the use cases ask of it)."""

    def __init__(self) -> None:
        self.items = FakeStockItems()
        self.transfers = FakeTransfers()
        self.records = FakeRecords()
        self.directory = FakeDirectory()
        self.policy = Policy()
        self.clock = CountyClock(now=lambda: NOW)
        self.published: list[Payload] = []
        self.committed = False
        self.cause: Any = None  # what a record set names as the cause of what it publishes

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def publish(self, data: Payload, *, subject: str | None = None) -> None:
        self.published.append(data)

    def commit(self) -> None:
        self.committed = True

    def now(self) -> datetime:
        return self.clock.now()

    def today(self) -> date:
        return self.clock.today()

    # --- arranging -----------------------------------------------------------------------

    def as_pharmacy(self) -> PharmacyUnitOfWork:
        """This fake, typed as what the use cases take."""
        return cast(PharmacyUnitOfWork, self)

    def member(self, facility_id: str, **fields: Any) -> None:
        values: dict[str, Any] = {
            "facility_id": facility_id,
            "name": facility_id,
            "community_id": "C-1",
            "county_code": "330000",
            "tier": FacilityTier.PRIMARY.value,
            "facility_type": FacilityType.TOWNSHIP_CENTRE.value,
            "active": True,
        }
        values.update(fields)
        self.directory.facilities[facility_id] = KnownFacility(**values)

    def drug(self, code: str, price: str = "10.0000", *, listed: bool = True) -> None:
        snapshot = DrugSnapshot(
            drug_code=code,
            name=f"药品{code}",
            dosage_form="片剂",
            strength="10mg",
            pack_size=30,
            unit="盒",
            unit_price=Decimal(price),
            essential=True,
            tcm=False,
            allowed_tiers=list(FacilityTier),
            allowed_facility_types=list(FacilityType),
        )
        self.records.formulary[code] = Drug(snapshot, listed=listed)

    def stock(self, facility_id: str, code: str, *lots: tuple[str, int, int]) -> None:
        """Lots as (number, days to expiry, on hand), at cost 2.0000."""
        self.items.put(
            StockItem(
                facility_id,
                code,
                [
                    LotBalance(number, TODAY + timedelta(days=days), on_hand, Decimal(2))
                    for number, days, on_hand in lots
                ],
            )
        )

    def of_type(self, kind: type[Any]) -> list[Any]:
        return [event for event in self.published if isinstance(event, kind)]
