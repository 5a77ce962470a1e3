"""Administration (行政一体化): the management committee's appraisal of its members.

Each half-year the committee (医共体管理委员会) appraises the lead hospital and every member on
the county's scorecard (``infra/administration/appraisal.yaml``), computed only from what the
other domains published. An approved appraisal is immutable; a correction is a new revision
of the period, approved again, which replaces the earlier one everywhere: finance reverses
the allocation it posted for the earlier revision and posts the new one.

The organisation itself (communities and facilities) is administration's too, on the
``organisation.*`` topics (``libs/events/catalogue/organisation.py``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import Field, StringConstraints, model_validator

from libs.events.payload import Identifier, Instant, Payload
from libs.events.registry import event_type

PRODUCER = "administration"

#: A half-year of the county's calendar: ``2026-H1`` (January to June) or ``2026-H2``.
HalfYear = Annotated[str, StringConstraints(pattern=r"^[0-9]{4}-H[12]$")]
#: A score out of 100, to two decimal places.
Score = Annotated[Decimal, Field(ge=0, le=100, max_digits=5, decimal_places=2, allow_inf_nan=False)]


class MemberScore(Payload):
    """One appraised member's approved total (after any adjustment)."""

    facility_id: Identifier
    community_id: Identifier
    score: Score


@event_type(
    "administration.appraisal.approved.v1",
    key="period",
    producer=PRODUCER,
    identity=("period", "revision"),
)
class AppraisalApproved(Payload):
    """The management committee approved a half-year's appraisal (绩效考核): every appraised
    member's score, by which finance splits each community's performance fund."""

    period: HalfYear
    revision: int = Field(
        ge=1, le=1000, description="1 for the first approval; each correction adds one."
    )
    members: list[MemberScore] = Field(min_length=1, max_length=5000)
    approved_by: Identifier
    approved_at: Instant

    @model_validator(mode="after")
    def _each_member_once(self) -> AppraisalApproved:
        ids = [m.facility_id for m in self.members]
        if len(ids) != len(set(ids)):
            raise ValueError("a member appears twice in the appraisal")
        return self
