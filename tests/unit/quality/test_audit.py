"""The prescription audit's rules (处方点评, 《医院处方点评管理规范（试行）》): the sample size
the standard asks for, a sample that is the same for the same seed whatever order the ids come
in, the verdicts the standard allows, and what the verdicts add up to."""

from __future__ import annotations

import random
from datetime import date
from typing import Any

import pytest
import yaml

from libs.platform.settings import REPO_ROOT
from services.quality.domain.audit import (
    SampledVerdict,
    draw_sample,
    drawable_from,
    parse_month,
    previous_month,
    sample_size,
    tally,
)
from services.quality.domain.audit_standard import (
    AuditStandard,
    VerdictRefused,
    judge,
    parse_audit_standard,
)


def the_document() -> dict[str, Any]:
    text = (REPO_ROOT / "infra" / "quality" / "audit.yaml").read_text(encoding="utf-8")
    document: dict[str, Any] = yaml.safe_load(text)
    return document


@pytest.fixture(scope="module")
def standard() -> AuditStandard:
    return parse_audit_standard(the_document())


def ids(count: int, prefix: str = "RX") -> list[str]:
    return [f"{prefix}-{n:06d}" for n in range(count)]


@pytest.mark.parametrize(
    ("prescriptions", "sampled"),
    [(0, 0), (1, 1), (99, 99), (100, 100), (5_000, 100), (100_000, 100), (100_001, 101),
     (250_000, 250), (660_000, 660)],
)  # fmt: skip
def test_the_sample_is_at_least_100_and_at_least_one_per_mille(
    standard: AuditStandard, prescriptions: int, sampled: int
) -> None:
    assert sample_size(prescriptions, standard) == sampled


def test_a_months_sample_is_the_same_for_the_same_seed(standard: AuditStandard) -> None:
    month = ids(3_000)
    first = draw_sample("seed-1", "2026-11", "QS-T01", month, 100)
    shuffled = month[:]
    random.Random(7).shuffle(shuffled)
    assert draw_sample("seed-1", "2026-11", "QS-T01", shuffled, 100) == first
    assert draw_sample("seed-1", "2026-11", "QS-T01", month + month[:10], 100) == first
    assert len(first) == len(set(first)) == 100 and set(first) <= set(month)
    # Another seed, month or member draws another sample from the same ids.
    assert draw_sample("seed-2", "2026-11", "QS-T01", month, 100) != first
    assert draw_sample("seed-1", "2026-10", "QS-T01", month, 100) != first
    assert draw_sample("seed-1", "2026-11", "QS-T02", month, 100) != first
    # A larger sample of the same month starts with the smaller one (a rank, not a lottery).
    assert draw_sample("seed-1", "2026-11", "QS-T01", month, 150)[:100] == first


def test_a_small_member_has_every_prescription_sampled(standard: AuditStandard) -> None:
    month = ids(40)
    assert sorted(draw_sample(standard.seed, "2026-11", "QS-V01", month, 40)) == month


def test_a_month_is_drawn_days_after_it_ended(standard: AuditStandard) -> None:
    assert standard.draw_after_days == 3
    assert drawable_from("2026-11", standard) == date(2026, 12, 4)
    assert drawable_from("2026-12", standard) == date(2027, 1, 4)
    assert previous_month(date(2026, 1, 15)) == "2025-12"
    assert parse_month("2026-11") == "2026-11"
    for bad in ("2026-13", "26-11", "2026-1", "abcd-ef", "2026-11-01", "１２３４-11"):
        with pytest.raises(ValueError, match="month"):
            parse_month(bad)


def test_the_standard_lists_its_three_categories(standard: AuditStandard) -> None:
    labels = {c.code: c.label for c in standard.categories.values()}
    assert labels == {
        "non_standard": "不规范处方",
        "inappropriate": "用药不适宜处方",
        "abnormal": "超常处方",
    }
    sizes = {c.code: len(c.reasons) for c in standard.categories.values()}
    assert sizes == {"non_standard": 15, "inappropriate": 9, "abnormal": 4}  # 第十七至十九条


def test_verdicts_are_checked_against_the_standard(standard: AuditStandard) -> None:
    assert judge(standard, "rational", []).rational
    found = judge(standard, "inappropriate", ["dosage_inappropriate", "dosage_inappropriate"])
    assert found.reasons == ("dosage_inappropriate",) and not found.rational
    refusals = {
        ("irrational", ()): "unknown_verdict",
        ("inappropriate", ()): "reasons_required",
        ("rational", ("no_indication",)): "reasons_for_rational",
        ("abnormal", ("dosage_inappropriate",)): "unknown_reason",
        ("abnormal", ("made_up",)): "unknown_reason",
    }
    for (verdict, reasons), code in refusals.items():
        with pytest.raises(VerdictRefused) as refused:
            judge(standard, verdict, list(reasons))
        assert refused.value.code == code
    with pytest.raises(VerdictRefused, match="reason of inappropriate"):
        judge(standard, "abnormal", ["dosage_inappropriate"])


def test_the_verdicts_add_up_per_category_reason_and_prescriber() -> None:
    items = [
        SampledVerdict("RX-1", "S-1", "rational"),
        SampledVerdict("RX-2", "S-1", "inappropriate", ("dosage_inappropriate",)),
        SampledVerdict("RX-3", "S-2", "abnormal", ("no_indication", "off_label_without_reason")),
        SampledVerdict("RX-4", None, "inappropriate", ("dosage_inappropriate",)),
        SampledVerdict("RX-5", "S-2", None),
    ]
    counts = tally(items)
    assert (counts.sampled, counts.reviewed, counts.irrational, counts.undecided) == (5, 4, 3, 1)
    assert counts.by_category == {"abnormal": 1, "inappropriate": 2}
    assert counts.by_reason == {
        ("abnormal", "no_indication"): 1,
        ("abnormal", "off_label_without_reason"): 1,
        ("inappropriate", "dosage_inappropriate"): 2,
    }
    assert [(p.prescriber_id, p.sampled, p.irrational) for p in counts.by_prescriber] == [
        ("S-1", 2, 1),
        ("S-2", 2, 1),
        (None, 1, 1),
    ]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["sampling"].update(per_mille=0), "per_mille"),
        (lambda d: d["sampling"].update(seed=""), "seed"),
        (lambda d: d.update(draw_after=3), "unknown key"),
        (lambda d: d["categories"]["abnormal"]["reasons"].update(no_indication2="x",
                                                                   dosage_inappropriate="y"),
         "both inappropriate and abnormal"),
        (lambda d: d["categories"].update(rational={"label": "合理", "reasons": {"a": "b"}}),
         "rational"),
    ],
)  # fmt: skip
def test_a_wrong_standard_is_refused_naming_the_value(change: Any, message: str) -> None:
    document = the_document()
    change(document)
    with pytest.raises(ValueError, match=message):
        parse_audit_standard(document)
