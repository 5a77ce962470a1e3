"""Result mutual recognition in-process, on each database, through the quality service's
own handlers: results indexed from the members' systems, an order recognised or refused
with its reason, once however often the order is resent."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from libs.events.catalogue.ingestion import OrderPlaced, ResultReported
from libs.events.catalogue.values import FacilityTier, TestKind
from libs.events.envelope import utc_now
from tests.support.apps import holding_the_county, in_process, organisation_events
from tests.support.databases import database_url
from tests.support.harness import HandlerHarness, event_of

PATIENT = "d4" * 32
RECOGNISED = "quality.recognition.recognised.v1"
NOT_RECOGNISED = "quality.recognition.not_recognised.v1"


@pytest.fixture(scope="module")
def seed(tmp_path_factory: pytest.TempPathFactory) -> list[Any]:
    return organisation_events(tmp_path_factory.mktemp("seed"))


@pytest.fixture
def quality(db_kind: str, tmp_path: Path, seed: list[Any]) -> Iterator[HandlerHarness]:
    with database_url(db_kind, tmp_path, "quality") as url:
        process = in_process("quality", url, tmp_path / "data")
        harness = holding_the_county(process, seed)
        yield harness
        harness.close()
        process.database.dispose()


def reported(rid: str, facility: str, code: str, at: datetime) -> ResultReported:
    return ResultReported(
        result_id=rid,
        facility_id=facility,
        facility_tier=FacilityTier.SECONDARY
        if facility.startswith("QS-H")
        else FacilityTier.PRIMARY,
        patient_pseudonym=PATIENT,
        test_kind=TestKind.LABORATORY,
        test_code=code,
        reported_at=at,
    )


def ordered(oid: str, facility: str, code: str) -> OrderPlaced:
    return OrderPlaced(
        order_id=oid,
        facility_id=facility,
        facility_tier=FacilityTier.PRIMARY,
        patient_pseudonym=PATIENT,
        test_kind=TestKind.LABORATORY,
        test_code=code,
        ordered_at=utc_now() - timedelta(minutes=1),
    )


def apply(harness: HandlerHarness, *payloads: Any) -> None:
    for payload in payloads:
        result = harness.apply(event_of(payload, source=f"/his/{payload.facility_id}"))
        assert not result.dead_lettered, result.dead_lettered


def test_a_repeat_inside_the_window_is_recognised_once(quality: HandlerHarness) -> None:
    now = utc_now()
    apply(
        quality,
        reported("LAB-1", "QS-H01", "LFT", now - timedelta(days=3)),
        reported("LAB-2", "QS-T02", "CBC", now - timedelta(days=1)),
        reported("LAB-3", "QS-H01", "LIPID", now - timedelta(days=45)),
    )
    order = ordered("OR-1", "QS-T01", "LFT")
    apply(quality, order, ordered("OR-2", "QS-T01", "CBC"), ordered("OR-3", "QS-T01", "LIPID"))
    apply(quality, ordered("OR-4", "QS-T01", "MRI-KNEE"))
    apply(quality, order)  # the HIS sends it again

    (recognised,) = quality.published(RECOGNISED)
    assert recognised.data.order_id == "OR-1" and recognised.data.earlier_result_id == "LAB-1"
    assert str(recognised.data.avoided_cost) == "60.00" and recognised.data.window_days == 14
    reasons = {e.data.order_id: e.data.reason.value for e in quality.published(NOT_RECOGNISED)}
    assert reasons == {
        "OR-2": "not_accredited",
        "OR-3": "outside_window",
        "OR-4": "item_not_recognised",
    }
