"""The policy file is validated; periods follow the county's local time."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from pydantic import ValidationError

from services.finance.domain.periods import calendar_share, next_period, period_end, period_of
from services.finance.domain.policy import parse_policy
from tests.support.finance import COUNTY_CLOCK, policy_doc


def test_a_visit_early_on_the_first_of_the_month_belongs_to_that_month() -> None:
    # 07:00 on 1 December in the county is still 30 November in UTC.
    assert period_of(datetime(2026, 11, 30, 23, 0, tzinfo=UTC), COUNTY_CLOCK) == "2026-12"
    assert period_of(date(2026, 1, 31), COUNTY_CLOCK) == "2026-01"
    assert next_period("2026-12") == "2027-01"
    assert calendar_share(date(2026, 12, 31)) == 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d["reimbursement"]["in_county"]["urban_employee"].update(primary=0.9),
            "strings",
        ),
        (lambda d: d["reimbursement"]["in_county"]["urban_employee"].pop("tertiary"), "tertiary"),
        (lambda d: d["reimbursement"]["in_county"].update(self_pay={}), "self-pay"),
        (lambda d: d["tariff"]["referral_fees"].pop("down"), "down"),
        (lambda d: d["bundle"]["budgets"].append(dict(d["bundle"]["budgets"][0])), "one budget"),
        (lambda d: d["bundle"]["overspend_sharing"].reverse(), "last band"),
        (lambda d: d.update(timezone="Asia/Shanghai"), "timezone"),
        (lambda d: d["bundle"]["budgets"][0].update(prepayment="1e12"), "prepayment"),
    ],
)
def test_a_wrong_policy_is_refused(change, message: str) -> None:
    doc = policy_doc()
    change(doc)
    with pytest.raises((ValueError, ValidationError), match=message):
        parse_policy(doc)


def test_a_period_ends_at_the_first_instant_of_the_next_month_on_the_county_clock() -> None:
    # midnight of 1 January in the county is 16:00 on 31 December in UTC
    assert period_end("2026-12", COUNTY_CLOCK) == datetime(2026, 12, 31, 16, 0, tzinfo=UTC)
    assert period_of(period_end("2026-12", COUNTY_CLOCK), COUNTY_CLOCK) == "2027-01"
