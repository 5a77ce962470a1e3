"""Valid sample payloads of any catalogue type, built from the schema itself."""

from __future__ import annotations

import types
import typing
from datetime import UTC, date, datetime, time
from decimal import Decimal
from enum import Enum
from typing import Any, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from libs.events.catalogue.finance import (
    JournalEntryPosted,
    JournalLine,
    PerformancePayAllocated,
    StaffAllocation,
)
from libs.events.catalogue.ingestion import PrescriptionIssuedV2
from libs.events.catalogue.reporting import IndicatorCellUpdated, OrgUnitLevel, PeriodKind
from libs.events.catalogue.values import PrescriptionCategory
from libs.events.payload import Payload

PSEUDONYM = "a" * 64
WHEN = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)

_OVERRIDES: dict[type[BaseModel], dict[str, Any]] = {
    IndicatorCellUpdated: {  # the id names the cell
        "cell_id": "tcm_prescription_share:county:QS:month:2026-11",
        "indicator": "tcm_prescription_share",
        "level": OrgUnitLevel.COUNTY,
        "unit_id": "QS",
        "period_kind": PeriodKind.MONTH,
        "period": "2026-11",
    },
    JournalEntryPosted: {
        "lines": [
            JournalLine(account_code="1001", facility_id="QS-T01", debit=Decimal("10.00")),
            JournalLine(account_code="6001", facility_id="QS-T01", credit=Decimal("10.00")),
        ]
    },
    JournalLine: {"debit": Decimal("1.00"), "credit": Decimal("0.00")},
    PrescriptionIssuedV2: {"category": PrescriptionCategory.TCM_HERBAL},
    PerformancePayAllocated: {
        "fund_amount": Decimal("100.00"),
        "allocations": [
            StaffAllocation(
                staff_id="S1", facility_id="QS-H01", points=Decimal("3"), amount=Decimal("100.00")
            )
        ],
    },
}


def _value(name: str, annotation: Any, metadata: list[Any]) -> Any:
    origin = get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        return _value(name, args[0], metadata)
    if origin is typing.Annotated:
        inner, *extra = get_args(annotation)
        flat = [m for e in extra for m in (e.metadata if isinstance(e, FieldInfo) else [e])]
        return _value(name, inner, [*metadata, *flat])
    if origin is list:
        return [_value(name, get_args(annotation)[0], [])]
    if isinstance(annotation, type):
        if issubclass(annotation, BaseModel):
            return sample(annotation)
        if issubclass(annotation, Enum):
            return next(iter(annotation))
        if issubclass(annotation, bool):
            return True
        if issubclass(annotation, int):
            low = 1
            for meta in metadata:
                low = max(low, getattr(meta, "ge", None) or 0, (getattr(meta, "gt", None) or 0) + 1)
            return low
        if issubclass(annotation, Decimal):
            return Decimal("1.00")
        if issubclass(annotation, datetime) or annotation.__name__ == "AwareDatetime":
            return WHEN
        if issubclass(annotation, date):
            return date(2027, 6, 30)
        if issubclass(annotation, time):
            return time(8, 0)
        if issubclass(annotation, str):
            return _string(name, metadata)
    raise TypeError(f"no sample for {name}: {annotation!r}")


def _string(name: str, metadata: list[Any]) -> str:
    pattern = ""
    for meta in metadata:
        pattern = getattr(meta, "pattern", None) or pattern
    if "0-9a-f]{64}" in pattern:
        return PSEUDONYM
    if pattern.startswith("^[A-Z][0-9]{2}"):
        return "I21.9"
    if "(0[1-9]|1[0-2])" in pattern:
        return "2026-11"
    if "H[12]" in pattern:
        return "2026-H1"
    if "[0-5][0-9]-" in pattern:  # an opening span
        return "08:00-17:30"
    if name.endswith("_type"):
        return "organisation.facility.registered.v1"
    return "X-" + name.replace("_", "")[:20].upper()


def sample(model: type[BaseModel], **changes: Any) -> Any:
    """A valid instance of ``model``; ``changes`` override fields."""
    values: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        values[name] = _value(name, info.annotation, list(info.metadata))
    values.update(_OVERRIDES.get(model, {}))
    values.update(changes)
    return model(**values)


def sample_payload(model: type[Payload], **changes: Any) -> Payload:
    return typing.cast(Payload, sample(model, **changes))
