"""Opening balances for the demo county (``infra/pharmacy/opening-stock.yaml``).

Each entry is booked once, as a receipt with source ``opening_balance`` and a receipt id
derived from the entry, as soon as its facility is known here (the organisation arrives as
events, possibly after this service started). Expiry dates are given relative to the day an
entry is booked, so the demo never starts with everything expired.

The file grows with the community: eight lots a facility are 18,400 entries (2.5 MB) at
2,300 facilities. Loaded whole (``yaml.safe_load``), its node tree peaked at 164 MiB and
took the service's peak resident set from ~160 to ~290 MiB before it had booked anything;
:func:`load_opening_stock` reads one entry at a time instead (+5 MiB, 2 s rather than 9).
Entries are small (slots, shared strings), booked in chunks of :data:`BOOKING_CHUNK` per
transaction, and dropped once settled.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from itertools import islice
from pathlib import Path
from typing import Any

import structlog
import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.events import (
    MappingEndEvent,
    MappingStartEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)
from yaml.resolver import Resolver

from libs.events.catalogue.pharmacy import ReceiptSource
from services.pharmacy.service_layer.errors import PharmacyError
from services.pharmacy.service_layer.stock import Receipt, receive_in
from services.pharmacy.service_layer.unit_of_work import PharmacyUnitOfWork

__all__ = [
    "BOOKING_CHUNK",
    "OpeningLot",
    "apply_opening_stock",
    "load_opening_stock",
    "parse_opening_stock",
]

log = structlog.get_logger("opening_stock")

#: Entries booked per transaction: what one session holds (identity map, staged events) stays
#: the same however long the file, and the relay publishes while the rest is being booked.
BOOKING_CHUNK = 500


@dataclass(frozen=True, slots=True)
class OpeningLot:
    facility_id: str
    drug_code: str
    lot_number: str
    expires_in_days: int
    quantity: int
    unit_cost: Decimal

    @property
    def receipt_id(self) -> str:
        return f"OPEN-{self.facility_id}-{self.drug_code}-{self.lot_number}"[:64]


def parse_opening_stock(doc: dict[str, Any]) -> list[OpeningLot]:
    """Validate the opening-stock document."""
    return _validated(doc.get("lots") or [])


def load_opening_stock(path: Path) -> list[OpeningLot]:
    """Read and validate the opening-stock file: the entries of
    ``parse_opening_stock(yaml.safe_load(...))``, read one at a time (each entry's node is
    composed, constructed and dropped before the next)."""
    with path.open("rb") as stream:
        return _validated(_entries(_loader(stream), path))


def _validated(items: Iterable[Any]) -> list[OpeningLot]:
    # A facility's id recurs once per drug and a drug's code once per facility: share them.
    costs: dict[str, Decimal] = {}
    ids: set[str] = set()
    lots = []
    for item in items:
        cost = str(item["unit_cost"])
        lot = OpeningLot(
            facility_id=sys.intern(str(item["facility_id"])),
            drug_code=sys.intern(str(item["drug_code"])),
            lot_number=sys.intern(str(item["lot_number"])),
            expires_in_days=int(item["expires_in_days"]),
            quantity=int(item["quantity"]),
            unit_cost=costs.setdefault(cost, Decimal(cost)),
        )
        if lot.quantity <= 0 or lot.unit_cost < 0:
            raise ValueError(f"{lot.receipt_id}: quantity must be positive, cost not negative")
        if lot.receipt_id in ids:
            raise ValueError("an opening lot appears twice")
        ids.add(lot.receipt_id)
        lots.append(lot)
    return lots


_CParser: Any
try:  # libyaml's parser, the one yaml.CSafeLoader uses
    from yaml._yaml import CParser as _CParser
except ImportError:  # PyYAML built without libyaml: the pure-Python loader, node by node
    _CParser = None

if _CParser is not None:

    class _EntryLoader(_CParser, Composer, SafeConstructor, Resolver):
        """``yaml.CSafeLoader`` (libyaml's parser) whose caller composes node by node."""

        def __init__(self, stream: Any) -> None:
            _CParser.__init__(self, stream)
            Composer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)


def _loader(stream: Any) -> Any:
    return yaml.SafeLoader(stream) if _CParser is None else _EntryLoader(stream)


def _entries(loader: Any, path: Path) -> Iterator[Any]:
    """The items of the document's ``lots`` sequence, one by one (``{lots: [...]}``)."""

    def value() -> Any:
        return loader.construct_document(loader.compose_node(None, None))

    try:
        loader.get_event()  # stream start
        if loader.check_event(StreamEndEvent):
            return  # an empty file: no lots
        loader.get_event()  # document start
        if not loader.check_event(MappingStartEvent):
            if value() is None:
                return
            raise ValueError(f"{path}: expected a mapping")
        loader.get_event()
        while not loader.check_event(MappingEndEvent):
            if value() == "lots" and loader.check_event(SequenceStartEvent):
                loader.get_event()
                while not loader.check_event(SequenceEndEvent):
                    yield value()
                loader.get_event()
            else:
                value()  # another key's value, or lots that are not a list: as safe_load
        loader.get_event()  # mapping end
        loader.get_event()  # document end
        if not loader.check_event(StreamEndEvent):
            raise ValueError(f"{path}: expected a single document")
    finally:
        loader.dispose()


def apply_opening_stock(
    uow_factory: Callable[[], PharmacyUnitOfWork], lots: list[OpeningLot]
) -> int:
    """Book the entries not booked yet whose facility is known; returns how many are still
    waiting for their facility. An entry the formulary refuses is logged and skipped.

    ``lots`` is left holding only the entries still waiting: the booked, the already booked
    and the refused are settled and are not looked at again (nor kept in memory)."""
    booked = 0
    waiting: list[OpeningLot] = []
    pending = iter(lots)
    position = 0
    while chunk := list(islice(pending, BOOKING_CHUNK)):
        with uow_factory() as uow:
            today = uow.today()
            for lot in chunk:
                position += 1
                if uow.stock.has_reference("receipt", lot.receipt_id):
                    continue
                if uow.directory.get(lot.facility_id) is None:
                    waiting.append(lot)
                    continue
                if _book(uow, lot, today, position):
                    booked += 1
            uow.commit()
    lots[:] = waiting
    if booked:
        log.info("opening stock booked", lots=booked, waiting_for_facility=len(waiting))
    return len(waiting)


def _book(uow: PharmacyUnitOfWork, lot: OpeningLot, today: Any, position: int) -> bool:
    savepoint = uow.session.begin_nested()
    try:
        receive_in(
            uow,
            lot.facility_id,
            Receipt(
                drug_code=lot.drug_code,
                lot_number=lot.lot_number,
                expiry_date=today + timedelta(days=lot.expires_in_days),
                quantity=lot.quantity,
                unit_cost=lot.unit_cost,
                source=ReceiptSource.OPENING_BALANCE,
                receipt_id=lot.receipt_id,
            ),
        )
    except PharmacyError as exc:
        savepoint.rollback()
        # The entry is named by its position in the file: logs carry no ids.
        log.warning("opening lot refused", entry=position, code=exc.code)
        return False
    savepoint.commit()
    return True
