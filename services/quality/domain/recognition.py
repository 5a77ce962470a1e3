"""Result mutual recognition (检查检验结果互认): whether an earlier result stands in for a
test a member has just ordered.

An item is recognised when it is on the county's list; a result stands in when it is of the
same item and patient, was reported before the order and no longer ago than the item's
window, and was done at a member accredited for the item. Of those, the latest is named.
The rules read no database: the service layer hands over the patient's recent results.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from libs.events.catalogue.quality import NotRecognisedReason
from libs.events.catalogue.values import TestKind

__all__ = [
    "EarlierResult",
    "RecognisedItem",
    "Recognition",
    "RecognitionCatalogue",
    "parse_recognition",
    "recognise",
]

ALL_ITEMS = "*"


@dataclass(frozen=True)
class RecognisedItem:
    code: str
    name: str
    kind: TestKind
    window: timedelta
    price: Decimal


@dataclass(frozen=True)
class RecognitionCatalogue:
    items: dict[str, RecognisedItem]
    accredited: dict[str, frozenset[str]]
    """Facility → the item codes it is accredited for (``*``: all)."""

    def accredited_for(self, facility_id: str, code: str) -> bool:
        held = self.accredited.get(facility_id, frozenset())
        return ALL_ITEMS in held or code in held


@dataclass(frozen=True)
class EarlierResult:
    result_id: str
    facility_id: str
    test_code: str
    reported_at: datetime


@dataclass(frozen=True)
class Recognition:
    """The decision on one order: the result recognised, or why none is."""

    item: RecognisedItem | None
    result: EarlierResult | None
    reason: NotRecognisedReason | None


def recognise(
    test_code: str,
    ordered_at: datetime,
    earlier: Sequence[EarlierResult],
    catalogue: RecognitionCatalogue,
) -> Recognition:
    """Decide for an order of ``test_code`` at ``ordered_at`` given the patient's results of
    that item (any order)."""
    item = catalogue.items.get(test_code)
    if item is None:
        return Recognition(None, None, NotRecognisedReason.ITEM_NOT_RECOGNISED)
    before = sorted(
        (r for r in earlier if r.test_code == test_code and r.reported_at <= ordered_at),
        key=lambda r: r.reported_at,
        reverse=True,
    )
    if not before:
        return Recognition(item, None, NotRecognisedReason.NO_EARLIER_RESULT)
    recent = [r for r in before if ordered_at - r.reported_at <= item.window]
    if not recent:
        return Recognition(item, None, NotRecognisedReason.OUTSIDE_WINDOW)
    for result in recent:
        if catalogue.accredited_for(result.facility_id, test_code):
            return Recognition(item, result, None)
    return Recognition(item, None, NotRecognisedReason.NOT_ACCREDITED)


def parse_recognition(document: dict[str, Any]) -> RecognitionCatalogue:
    """The catalogue of ``infra/quality/recognition.yaml``; ValueError naming what is wrong."""
    items_doc = document.get("items")
    if not isinstance(items_doc, dict) or not items_doc:
        raise ValueError("recognition: items must be a mapping of item codes")
    items = {str(code): _item(str(code), spec) for code, spec in items_doc.items()}
    accredited: dict[str, frozenset[str]] = {}
    for facility, codes in (document.get("accredited") or {}).items():
        if not isinstance(codes, list):
            raise ValueError(f"recognition: accredited.{facility} must be a list of item codes")
        unknown = [c for c in codes if c != ALL_ITEMS and c not in items]
        if unknown:
            raise ValueError(f"recognition: accredited.{facility} names unknown items {unknown}")
        accredited[str(facility)] = frozenset(str(c) for c in codes)
    return RecognitionCatalogue(items=items, accredited=accredited)


def _item(code: str, spec: Any) -> RecognisedItem:
    where = f"recognition: items.{code}"
    if not isinstance(spec, dict):
        raise ValueError(f"{where} must be a mapping")
    window = spec.get("window_days")
    if isinstance(window, bool) or not isinstance(window, int) or not 1 <= window <= 3650:
        raise ValueError(f"{where}.window_days must be a whole number of days from 1 to 3650")
    try:
        price = Decimal(str(spec.get("price")))
    except InvalidOperation:
        raise ValueError(f"{where}.price must be an amount in yuan") from None
    if not price.is_finite() or price < 0 or price != price.quantize(Decimal("0.01")):
        raise ValueError(f"{where}.price must be an amount in yuan, to the cent")
    try:
        kind = TestKind(str(spec.get("kind")))
    except ValueError:
        raise ValueError(f"{where}.kind must be laboratory or imaging") from None
    return RecognisedItem(code, str(spec.get("name") or code), kind, timedelta(days=window), price)
