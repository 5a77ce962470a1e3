"""审方 · 处方点评: the monthly prescription audit in the county's words. The quality service
draws each member's sample, checks every verdict against the county's standard
(infra/quality/audit.yaml, whose categories and sub-reasons it serves) and publishes a
member's results once every verdict is given; this only names and offers."""

from __future__ import annotations

from typing import Any

from services.console.domain.months import ended_months, month_name

__all__ = ["RATIONAL", "ended_months", "irrational_rate", "month_name", "verdicts"]

#: The verdict of a prescription that is none of the standard's categories (合理处方).
RATIONAL = "rational"


def verdicts(standard: dict[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """The verdicts a reviewer may give by code (合理处方 first, then the standard's
    categories), and every sub-reason's wording by code."""
    names = {RATIONAL: "合理处方"} | {c["code"]: c["label"] for c in standard["categories"]}
    reasons = {r["code"]: r["label"] for c in standard["categories"] for r in c["reasons"]}
    return names, reasons


def irrational_rate(summary: dict[str, Any]) -> str:
    """不合理处方率 of what is reviewed so far (— before the first verdict)."""
    if not summary["reviewed"]:
        return "—"
    return f"{summary['irrational'] * 100 / summary['reviewed']:.1f}%"
