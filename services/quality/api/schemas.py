"""The JSON shapes of the review centre's API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["DecisionIn", "RejectionIn", "ReviewView"]


class ReviewView(BaseModel):
    facility_id: str
    prescription_id: str
    state: str = Field(description="released, held or rejected")
    outcome: str = Field(description="What the rules said: released, released_with_warnings, "
                         "held or rejected.")  # fmt: skip
    before_dispensing: bool
    prescriber_id: str | None
    antibiotic: bool
    findings: list[dict[str, Any]]
    lines: list[dict[str, Any]]
    reviewed_at: datetime
    held_at: datetime | None
    decide_by: datetime | None
    overdue: bool
    decided_at: datetime | None
    decided_by: str | None
    decision_note: str | None


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(default=None, max_length=500, description="Why it may go ahead.")


class RejectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(
        min_length=1, max_length=500, description="What the prescriber must change."
    )
