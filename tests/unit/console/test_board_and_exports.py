"""The referral board's order and countdowns, and the exports' bytes."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from openpyxl import load_workbook

from libs.platform.auth import Role
from services.console.adapters.exports import Table, as_csv, as_xlsx
from services.console.domain.pharmacy_board import steps_for
from services.console.domain.referral_board import arrange, countdown

NOW = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)


def referral(rid: str, *, state: str = "requested", green: str | None = None,
             due_in: int = 60, to: str = "QS-H01") -> dict[str, Any]:  # fmt: skip
    return {
        "referral_id": rid,
        "state": state,
        "green_channel": green,
        "to_facility_id": to,
        "accept_due_at": (NOW + timedelta(minutes=due_in)).isoformat(),
    }


def test_green_channels_come_first_then_the_nearest_deadline() -> None:
    lines = arrange(
        [
            referral("R1", due_in=10),
            referral("R2", green="stroke", due_in=90),
            referral("R3", state="accepted"),
            referral("R4", due_in=5, to="QS-T01"),
        ],
        "QS-H01",
    )
    assert [line.referral["referral_id"] for line in lines] == ["R2", "R4", "R1", "R3"]
    assert lines[0].actions == ("accept", "reject")
    assert lines[1].actions == ()  # outgoing: the other desk decides
    assert lines[3].actions == ("schedule", "arrive") and lines[3].due_at is None


def test_countdowns_read_in_chinese() -> None:
    assert countdown(NOW + timedelta(minutes=12, seconds=30), NOW) == "还剩 12 分"
    assert countdown(NOW + timedelta(hours=2, minutes=5), NOW) == "还剩 2 小时 5 分"
    assert countdown(NOW - timedelta(minutes=3), NOW) == "已超时 3 分"
    assert countdown(None, NOW) == ""


TABLE = Table("转诊看板", ("单号", "机构", "数量"), [("R1", "东湖镇卫生院", Decimal("2.50")),
                                                   ("=1+1", "-cmd", -3)])  # fmt: skip


def test_csv_starts_with_a_bom_and_defuses_formulas() -> None:
    content = as_csv(TABLE)
    assert content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows[0] == ["单号", "机构", "数量"]
    assert rows[1] == ["R1", "东湖镇卫生院", "2.50"]
    assert rows[2] == ["'=1+1", "'-cmd", "-3"]


def test_xlsx_has_chinese_headers_and_numbers_as_numbers() -> None:
    book = load_workbook(io.BytesIO(as_xlsx(TABLE)))
    sheet = book["转诊看板"]
    assert [c.value for c in sheet[1]] == ["单号", "机构", "数量"]
    assert sheet["C2"].value == 2.5 and sheet["C3"].value == -3


def transfer(state: str) -> dict[str, Any]:
    return {"state": state, "from_facility_id": "QS-H01", "to_facility_id": "QS-T01"}


def test_each_party_is_offered_only_its_own_step_of_a_transfer() -> None:
    central, admin, clinic = Role.PHARMACY_CENTRE, Role.COUNTY_ADMIN, Role.CLINIC_STAFF
    assert steps_for(transfer("requested"), central, None) == ("approve", "reject")
    assert steps_for(transfer("requested"), clinic, "QS-T01") == ()
    assert steps_for(transfer("approved"), central, None) == ("ship",)
    assert steps_for(transfer("approved"), clinic, "QS-H01") == ("ship",)  # the sender
    assert steps_for(transfer("approved"), clinic, "QS-T01") == ()
    assert steps_for(transfer("shipped"), clinic, "QS-T01") == ("receive",)  # the receiver
    assert steps_for(transfer("shipped"), clinic, "QS-T02") == ()
    assert steps_for(transfer("shipped"), admin, None) == ()  # the county reads only
    assert steps_for(transfer("received"), central, None) == ()
