"""The JSON shapes of the gateway's API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "AcceptedOut",
    "BatchIn",
    "BatchOut",
    "FeedOut",
    "MessageIn",
    "ProblemOut",
    "ResultOut",
    "SecretOut",
    "SystemOut",
]


class MessageIn(BaseModel):
    """One fact, as the catalogue's payload with the patient's resident identity number in
    ``patient_national_id`` (never ``patient_pseudonym``) and ``facility_tier`` optional."""

    model_config = ConfigDict(extra="forbid")

    message_id: str = Field(min_length=1, max_length=200, description="Your own id for it.")
    type: str = Field(min_length=1, max_length=100, examples=["ingestion.visit.recorded.v1"])
    data: dict[str, Any]


class BatchIn(BaseModel):
    """Several messages; each is accepted or refused on its own."""

    model_config = ConfigDict(extra="forbid")

    messages: list[dict[str, Any]] = Field(min_length=1)


class ProblemOut(BaseModel):
    code: str
    message: str
    location: str | None = None


class AcceptedOut(BaseModel):
    message_id: str
    event_id: str
    event_type: str
    replayed: bool = Field(description="Sent before: the first answer, nothing published now.")


class ResultOut(BaseModel):
    message_id: str | None
    status: int
    event_id: str | None = None
    event_type: str | None = None
    replayed: bool = False
    error: str | None = None
    problems: list[ProblemOut] = Field(default_factory=list)


class BatchOut(BaseModel):
    accepted: int
    refused: int
    results: list[ResultOut]


class FeedOut(BaseModel):
    system_id: str
    facility_id: str
    kind: str
    format: str
    product: str
    active: bool
    opening_hours: list[str]
    last_message_at: datetime | None
    silent: bool
    silent_since: datetime | None
    accepted_last_hour: int
    refused_last_hour: int
    accepted_today: int
    refused_today: int
    error_rate_today: float
    refusal_reasons: dict[str, int]
    last_refusal_at: datetime | None


class SystemOut(BaseModel):
    system_id: str
    facility_id: str
    kind: str
    format: str
    product: str
    active: bool
    has_secret: bool
    secret_issued_at: datetime | None


class SecretOut(BaseModel):
    system_id: str
    secret: str = Field(description="Shown once: the gateway keeps only a digest of it.")
