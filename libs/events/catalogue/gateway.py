"""Information systems (信息系统一体化): the gateway where members' HIS, LIS and PACS connect.

The gateway publishes the members' messages as the ingestion events (in the member's name,
``/his/<facility>``: it authenticated the system and checked its facility), and these events
of its own about the feeds: a member whose feed falls silent during its opening hours is
missing from every figure until it resumes.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from libs.events.payload import Code, Identifier, Instant, Payload
from libs.events.registry import event_type

PRODUCER = "gateway"


class FeedIncident(Payload):
    system_id: Identifier = Field(description="The member system's client id at the gateway.")
    facility_id: Identifier
    system_kind: Code = Field(description="his, lis or pacs.")
    silent_since: Instant = Field(
        description="The last message, or the opening of the hours it was expected in."
    )


@event_type(
    "gateway.feed.fallen_silent.v1",
    key="system_id",
    producer=PRODUCER,
    time_field="detected_at",
    identity=("system_id", "silent_since"),
)
class FeedSilent(FeedIncident):
    """A member system sent nothing for longer than its allowed gap, during its opening
    hours."""

    last_message_at: Instant | None = None
    detected_at: Instant


@event_type(
    "gateway.feed.resumed.v1",
    key="system_id",
    producer=PRODUCER,
    time_field="resumed_at",
    identity=("system_id", "silent_since"),
)
class FeedResumed(FeedIncident):
    """A silent member system's first message arrived again."""

    resumed_at: Instant

    @model_validator(mode="after")
    def _resumed_after_silence(self) -> FeedResumed:
        if self.resumed_at < self.silent_since:
            raise ValueError("resumed_at cannot be before silent_since")
        return self
