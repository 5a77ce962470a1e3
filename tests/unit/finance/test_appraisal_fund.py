"""The half-year member appraisal fund (绩效考核): a community's fund split by score to the
cent, deterministically, posted as performance pay and reversed line by line."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from services.finance.domain import accounts as acc
from services.finance.domain.appraisal_fund import reversal_lines, split_fund
from services.finance.domain.journal import Book, check_lines
from services.finance.domain.policy import MemberAppraisalPolicy, parse_policy

D = Decimal
SEED_POLICY = Path(__file__).resolve().parents[3] / "infra" / "finance" / "policy.yaml"
POLICY = MemberAppraisalPolicy(
    share_of_special_fund=D("0.34"),
    special_fund_per_half_year={"MC1": D("3600000.00"), "MC2": D("100.00")},
)


def test_the_seed_policy_configures_a_third_of_the_special_fund() -> None:
    policy = parse_policy(yaml.safe_load(SEED_POLICY.read_text(encoding="utf-8")))
    appraisal = policy.member_appraisal
    assert appraisal.share_of_special_fund == D("0.34")
    assert appraisal.special_fund("QS-MC1") == D("3600000.00")
    assert appraisal.special_fund("QS-NOPE") is None


@pytest.mark.parametrize(
    "section",
    [
        {"share_of_special_fund": "1.5"},
        {"share_of_special_fund": "-0.1"},
        {"share_of_special_fund": "0.34", "special_fund_per_half_year": {"MC1": "-1.00"}},
        {"share_of_special_fund": "0.34", "special_fund_per_half_year": {"MC1": "1.001"}},
        {"share_of_special_fund": 0.34},
    ],
)
def test_a_bad_member_appraisal_section_is_refused(section: dict[str, object]) -> None:
    doc = yaml.safe_load(SEED_POLICY.read_text(encoding="utf-8"))
    doc["member_appraisal"] = section
    with pytest.raises((ValidationError, ValueError), match=r"member_appraisal|share|float"):
        parse_policy(doc)


def test_the_fund_is_split_by_score_to_the_cent() -> None:
    split = split_fund("MC1", {"T01": D("90"), "T02": D("80"), "H01": D("95.5")}, POLICY)
    assert split is not None
    assert split.fund == D("1224000.00")
    assert split.amounts == {
        "H01": D("440271.19"),
        "T01": D("414915.25"),
        "T02": D("368813.56"),
    }
    assert split.total == split.fund


def test_spare_cents_go_by_largest_remainder_then_by_facility() -> None:
    split = split_fund("MC2", {"B": D("1"), "A": D("1"), "C": D("1")}, POLICY)
    assert split is not None
    assert split.fund == D("34.00")
    assert split.amounts == {"A": D("11.34"), "B": D("11.33"), "C": D("11.33")}


def test_a_member_scored_zero_gets_nothing_and_nobody_above_zero_pays_nothing() -> None:
    split = split_fund("MC2", {"A": D("0"), "B": D("50")}, POLICY)
    assert split is not None
    assert split.amounts == {"B": D("34.00")}
    assert [m["amount"] for m in split.members()] == ["0.00", "34.00"]
    nobody = split_fund("MC2", {"A": D("0")}, POLICY)
    assert nobody is not None
    assert nobody.amounts == {}
    assert nobody.lines() == []


def test_a_community_without_a_configured_fund_has_no_split() -> None:
    assert split_fund("MC9", {"A": D("50")}, POLICY) is None


def test_the_pool_pays_each_member_and_the_reversal_mirrors_every_line() -> None:
    split = split_fund("MC2", {"A": D("60"), "B": D("40")}, POLICY)
    assert split is not None
    lines = split.lines()
    check_lines(lines)
    pool = Book.pool("MC2")
    assert [(str(ln.book), ln.account, ln.debit, ln.credit) for ln in lines] == [
        (str(pool), acc.PERFORMANCE_PAY, D("34.00"), D("0.00")),
        (str(pool), acc.POOL_BANK, D("0.00"), D("34.00")),
        ("A", acc.BANK, D("20.40"), D("0.00")),
        ("A", acc.PERFORMANCE_PAY_PAYABLE, D("0.00"), D("20.40")),
        ("B", acc.BANK, D("13.60"), D("0.00")),
        ("B", acc.PERFORMANCE_PAY_PAYABLE, D("0.00"), D("13.60")),
    ]
    mirrored = reversal_lines(lines)
    check_lines(mirrored)
    assert [ln.amount for ln in mirrored] == [-ln.amount for ln in lines]
    assert [(ln.book, ln.account) for ln in mirrored] == [(ln.book, ln.account) for ln in lines]


@settings(max_examples=200, deadline=None, database=None)
@given(
    special=st.integers(min_value=0, max_value=10**11).map(lambda c: D(c).scaleb(-2)),
    scores=st.dictionaries(
        st.text(alphabet="ABCDEFGH", min_size=1, max_size=3),
        st.integers(min_value=0, max_value=10000).map(lambda s: D(s).scaleb(-2)),
        min_size=1,
        max_size=30,
    ),
)
def test_the_split_adds_up_to_the_fund_and_is_deterministic(
    special: Decimal, scores: dict[str, Decimal]
) -> None:
    policy = MemberAppraisalPolicy(
        share_of_special_fund=D("0.34"), special_fund_per_half_year={"MC": special}
    )
    split = split_fund("MC", scores, policy)
    assert split is not None
    if split.fund > 0 and any(s > 0 for s in scores.values()):
        assert split.total == split.fund
        check_lines(split.lines())
    else:
        assert split.total == 0
    assert all(split.amounts.get(f, D(0)) == 0 for f, s in scores.items() if s == 0)
    again = split_fund("MC", dict(reversed(list(scores.items()))), policy)
    assert again is not None
    assert again.amounts == split.amounts
