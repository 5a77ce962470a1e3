"""The JSON shapes of the prescription audit's API (处方点评)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "AuditCategoryView",
    "AuditFacilityView",
    "AuditItemView",
    "AuditMonthView",
    "AuditReasonView",
    "AuditStandardView",
    "AuditSummary",
    "VerdictIn",
]


class AuditReasonView(BaseModel):
    code: str
    label: str = Field(description="The standard's wording.")


class AuditCategoryView(BaseModel):
    code: str = Field(description="The verdict that names it, e.g. inappropriate.")
    label: str = Field(description="The standard's name, e.g. 用药不适宜处方.")
    reasons: list[AuditReasonView]


class AuditStandardView(BaseModel):
    """What a verdict may say and how a month is sampled (infra/quality/audit.yaml)."""

    minimum_per_month: int
    per_mille: int
    draw_after_days: int = Field(description="A month is drawn this many days after it ends.")
    categories: list[AuditCategoryView] = Field(
        description="The irrational categories; a rational verdict is `rational`."
    )


class AuditSummary(BaseModel):
    """Where one member's month stands."""

    month: str
    facility_id: str
    prescriptions: int = Field(description="Dispensed prescriptions issued in the month.")
    sampled: int
    reviewed: int = Field(description="Sampled prescriptions with a verdict.")
    irrational: int
    seed: str
    drawn_at: datetime
    drawn_by: str
    published_at: datetime | None
    published_by: str | None


class AuditMonthView(BaseModel):
    month: str
    drawable_from: date = Field(description="The first county day the month may be drawn.")
    facilities: list[AuditSummary]


class AuditItemView(BaseModel):
    """A sampled prescription, with what the central review found when it was issued."""

    prescription_id: str
    position: int = Field(description="Its rank in the draw: the order to work the queue in.")
    prescriber_id: str | None
    category: str | None = Field(description="western, tcm_patent or tcm_herbal.")
    issued_at: datetime | None
    lines: list[dict[str, Any]]
    review_state: str | None = Field(description="The central review: released, held, ...")
    review_findings: list[dict[str, Any]]
    verdict: str | None = Field(description="rational, or the category; None: not yet.")
    reasons: list[str]
    note: str | None
    decided_at: datetime | None
    decided_by: str | None
    history: list[dict[str, Any]] = Field(description="Earlier verdicts: who, when, what.")


class AuditFacilityView(BaseModel):
    summary: AuditSummary
    prescriptions: list[AuditItemView]


class VerdictIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    verdict: str = Field(
        min_length=1,
        max_length=32,
        description="rational, or an irrational category of infra/quality/audit.yaml: "
        "non_standard (不规范处方), inappropriate (用药不适宜处方), abnormal (超常处方).",
    )
    reasons: list[Annotated[str, Field(min_length=1, max_length=32)]] = Field(
        default_factory=list,
        max_length=30,
        description="The category's sub-reason codes (at least one unless rational).",
    )
    note: str | None = Field(default=None, max_length=500)
