"""Result mutual recognition's rules: which earlier result stands in for an order, or why
none does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from libs.events.catalogue.quality import NotRecognisedReason
from libs.platform.settings import REPO_ROOT
from services.quality.domain.recognition import EarlierResult, parse_recognition, recognise

CATALOGUE = parse_recognition(
    yaml.safe_load(Path(REPO_ROOT / "infra/quality/recognition.yaml").read_text("utf-8"))
)
NOW = datetime(2026, 12, 3, 9, tzinfo=UTC)


def result(rid: str, facility: str, days_ago: float, code: str = "CBC") -> EarlierResult:
    return EarlierResult(rid, facility, code, NOW - timedelta(days=days_ago))


def test_the_latest_accredited_result_within_the_window_is_recognised() -> None:
    earlier = [result("R-OLD", "QS-H01", 6), result("R-NEW", "QS-T01", 2)]
    decision = recognise("CBC", NOW, earlier, CATALOGUE)
    assert decision.result is not None and decision.result.result_id == "R-NEW"
    assert decision.item is not None and decision.item.price == Decimal("20.00")


def test_every_reason_a_result_does_not_stand_in() -> None:
    cases = {
        NotRecognisedReason.ITEM_NOT_RECOGNISED: ("MRI-KNEE", [result("R", "QS-H01", 1)]),
        NotRecognisedReason.NO_EARLIER_RESULT: ("CBC", [result("R", "QS-H01", 1, "LFT")]),
        NotRecognisedReason.OUTSIDE_WINDOW: ("CBC", [result("R", "QS-H01", 8)]),
        NotRecognisedReason.NOT_ACCREDITED: ("CBC", [result("R", "QS-T02", 1)]),
    }
    for reason, (code, earlier) in cases.items():
        decision = recognise(code, NOW, earlier, CATALOGUE)
        assert (decision.result, decision.reason) == (None, reason), reason


def test_a_result_reported_after_the_order_does_not_stand_in() -> None:
    later = EarlierResult("R", "QS-H01", "CBC", NOW + timedelta(minutes=5))
    assert recognise("CBC", NOW, [later], CATALOGUE).reason is NotRecognisedReason.NO_EARLIER_RESULT


def test_an_accredited_older_result_is_preferred_to_a_newer_unaccredited_one() -> None:
    earlier = [result("R-T02", "QS-T02", 1), result("R-H01", "QS-H01", 5)]
    decision = recognise("CBC", NOW, earlier, CATALOGUE)
    assert decision.result is not None and decision.result.result_id == "R-H01"


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"items": {}}, "items must be a mapping"),
        ({"items": {"X": {"kind": "laboratory", "window_days": 0, "price": "1"}}}, "window_days"),
        ({"items": {"X": {"kind": "laboratory", "window_days": 1, "price": "1.001"}}}, "price"),
        ({"items": {"X": {"kind": "blood", "window_days": 1, "price": "1"}}}, "kind"),
        (
            {
                "items": {"X": {"kind": "laboratory", "window_days": 1, "price": "1"}},
                "accredited": {"QS-H01": ["Y"]},
            },
            "unknown items",
        ),
    ],
)
def test_a_bad_catalogue_names_the_problem(document: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_recognition(document)
