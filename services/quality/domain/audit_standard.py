"""The county's prescription audit standard (``infra/quality/audit.yaml``): how many of a
member's prescriptions a month's sample holds, when a month may be drawn, and the verdicts a
reviewer may give (《医院处方点评管理规范（试行）》: 不规范处方 第十七条, 用药不适宜处方
第十八条, 超常处方 第十九条, each with the standard's sub-reasons).

A verdict is checked here against the standard, so a reviewer's typo is refused with the
codes that would do, never stored as a category nobody counts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from services.quality.domain.config_values import as_mapping, check_keys, whole_number

__all__ = [
    "RATIONAL",
    "AuditCategory",
    "AuditStandard",
    "Judgement",
    "VerdictRefused",
    "judge",
    "parse_audit_standard",
]

#: The verdict of a prescription that is none of the standard's categories (合理处方).
RATIONAL = "rational"

_TOP = frozenset({"sampling", "draw_after_days", "categories"})
_SAMPLING = frozenset({"minimum_per_month", "per_mille", "seed"})
_CATEGORY = frozenset({"label", "reasons"})
#: Codes travel on the published event (its ``Code`` fields) and in URLs of reports.
_CODE = re.compile(r"[a-z][a-z0-9_]{0,31}")


@dataclass(frozen=True)
class AuditCategory:
    code: str
    label: str
    """The standard's name, e.g. 用药不适宜处方."""
    reasons: Mapping[str, str]
    """Sub-reason code → the standard's wording."""


@dataclass(frozen=True)
class AuditStandard:
    minimum_per_month: int
    per_mille: int
    seed: str
    draw_after_days: int
    categories: Mapping[str, AuditCategory]

    def category_of(self, reason: str) -> str | None:
        """The category a sub-reason belongs to, if any."""
        for category in self.categories.values():
            if reason in category.reasons:
                return category.code
        return None


@dataclass(frozen=True)
class Judgement:
    """A verdict that passed the standard: rational (no reasons) or a category with its
    sub-reasons (each once, in the order given)."""

    verdict: str
    reasons: tuple[str, ...]

    @property
    def rational(self) -> bool:
        return self.verdict == RATIONAL


class VerdictRefused(ValueError):
    """A verdict the standard does not allow; ``code`` says which rule it broke."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def judge(standard: AuditStandard, verdict: str, reasons: Sequence[str]) -> Judgement:
    """``verdict`` with ``reasons`` checked against the standard (:class:`VerdictRefused`
    naming what is wrong and what would do)."""
    if verdict == RATIONAL:
        if reasons:
            raise VerdictRefused("reasons_for_rational", "a rational prescription has no reasons")
        return Judgement(RATIONAL, ())
    category = standard.categories.get(verdict)
    if category is None:
        known = ", ".join([RATIONAL, *standard.categories])
        raise VerdictRefused("unknown_verdict", f"unknown verdict {verdict!r}; one of {known}")
    if not reasons:
        raise VerdictRefused(
            "reasons_required",
            f"a {verdict} ({category.label}) verdict names at least one of its reasons: "
            + ", ".join(category.reasons),
        )
    for reason in reasons:
        if reason not in category.reasons:
            owner = standard.category_of(reason)
            where = f"it is a reason of {owner}" if owner else "it is no reason of the standard"
            raise VerdictRefused(
                "unknown_reason",
                f"{reason!r} is not a reason of {verdict} ({category.label}): {where}; "
                f"one of {', '.join(category.reasons)}",
            )
    return Judgement(verdict, tuple(dict.fromkeys(reasons)))


def parse_audit_standard(document: Mapping[str, Any]) -> AuditStandard:
    """The standard of ``infra/quality/audit.yaml``; ValueError naming the wrong value."""
    check_keys(document, _TOP, "audit")
    sampling = as_mapping(document.get("sampling"), "audit.sampling")
    check_keys(sampling, _SAMPLING, "audit.sampling")
    seed = sampling.get("seed")
    if not isinstance(seed, str) or not seed.strip() or len(seed) > 64:
        raise ValueError("audit.sampling.seed must be text of 1 to 64 characters")
    draw_after = document.get("draw_after_days", 3)
    if isinstance(draw_after, bool) or not isinstance(draw_after, int) or not 0 <= draw_after <= 31:
        raise ValueError(f"audit.draw_after_days must be 0 to 31 days, not {draw_after!r}")
    categories_doc = as_mapping(document.get("categories"), "audit.categories")
    categories = {str(code): _category(str(code), spec) for code, spec in categories_doc.items()}
    if not categories or RATIONAL in categories:
        raise ValueError(f"audit.categories must name the irrational categories (not {RATIONAL})")
    _reasons_unique(categories)
    return AuditStandard(
        minimum_per_month=whole_number(
            sampling.get("minimum_per_month"), "audit.sampling.minimum_per_month", upper=100_000
        ),
        per_mille=whole_number(sampling.get("per_mille"), "audit.sampling.per_mille", upper=1000),
        seed=seed.strip(),
        draw_after_days=draw_after,
        categories=categories,
    )


def _category(code: str, spec: Any) -> AuditCategory:
    where = f"audit.categories.{code}"
    if not _CODE.fullmatch(code):
        raise ValueError(f"{where}: a category code is a-z, 0-9 and _, up to 32 characters")
    entries = as_mapping(spec, where)
    check_keys(entries, _CATEGORY, where)
    label = entries.get("label")
    if not isinstance(label, str) or not label.strip():
        raise ValueError(f"{where}.label must be the standard's name of the category")
    reasons = as_mapping(entries.get("reasons"), f"{where}.reasons")
    if not reasons:
        raise ValueError(f"{where}.reasons must list the category's sub-reasons")
    for reason, wording in reasons.items():
        if not _CODE.fullmatch(str(reason)) or not isinstance(wording, str) or not wording.strip():
            raise ValueError(
                f"{where}.reasons.{reason}: a code (a-z, 0-9, _; up to 32) and its wording"
            )
    return AuditCategory(code, label.strip(), {str(k): str(v) for k, v in reasons.items()})


def _reasons_unique(categories: Mapping[str, AuditCategory]) -> None:
    """A reason code names one category: the published counts per reason would otherwise
    add up two different findings."""
    seen: dict[str, str] = {}
    for category in categories.values():
        for reason in category.reasons:
            if reason in seen:
                raise ValueError(
                    f"audit.categories: reason {reason} is listed under both "
                    f"{seen[reason]} and {category.code}"
                )
            seen[reason] = category.code
