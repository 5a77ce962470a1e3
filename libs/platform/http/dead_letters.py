"""The dead letters of a service that consumes, for county administrators (libs/platform/
dead_letters.py says what a replay does and why nothing is republished)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from libs.platform.auth import Principal, Role
from libs.platform.dead_letters import DeadLetterDesk, LetterNotFound, NotReplayable, Unreadable
from libs.platform.http.errors import ApiError
from libs.platform.http.pagination import Page, PageDep
from libs.platform.http.security import require_roles

__all__ = ["router"]

router = APIRouter(prefix="/dead-letters", tags=["dead letters"])

Administrator = Annotated[Principal, Depends(require_roles(Role.COUNTY_ADMIN))]
DeadLetterTopic = Annotated[str, Path(max_length=249, pattern=r"^[A-Za-z0-9._-]+\.dlt$")]
Partition = Annotated[int, Path(ge=0, le=100_000)]
Offset = Annotated[int, Path(ge=0)]


class Replay(BaseModel):
    """Replay the letter as it is, or ``value`` (the corrected record, as text) instead."""

    model_config = ConfigDict(extra="forbid")
    value: str | None = Field(default=None, max_length=1_000_000)


def _desk(request: Request) -> DeadLetterDesk:
    desk: DeadLetterDesk = request.app.state.dead_letters
    return desk


Desk = Annotated[DeadLetterDesk, Depends(_desk)]


def _read(read: Any) -> Any:
    try:
        return read()
    except Unreadable as exc:
        raise ApiError(503, "dead_letters_unreadable", str(exc)) from None
    except LetterNotFound as exc:
        raise ApiError(404, "not_found", str(exc)) from None


@router.get("", summary="This service's dead letters, newest first, each with its last replay")
def dead_letters(
    _: Administrator,
    desk: Desk,
    page: PageDep,
    reason: Annotated[str | None, Query(max_length=100)] = None,
    unresolved: Annotated[bool, Query(description="Only those not applied since")] = False,
) -> Page[dict[str, Any]]:
    found = _read(desk.letters)
    if reason is not None:
        found = [x for x in found if x["reason"] == reason]
    if unresolved:
        found = [x for x in found if not x["resolved"]]
    return page.of(found[page.offset : page.offset + page.limit], total=len(found))


@router.get("/{topic}/{partition}/{offset}", summary="One dead letter, its record and replays")
def dead_letter(
    _: Administrator, desk: Desk, topic: DeadLetterTopic, partition: Partition, offset: Offset
) -> dict[str, Any]:
    found: dict[str, Any] = _read(lambda: desk.letter(topic, partition, offset))
    return found


@router.post(
    "/{topic}/{partition}/{offset}/replay",
    summary="Apply the letter (or a corrected record) through this service's handlers",
)
def replay(
    administrator: Administrator,
    desk: Desk,
    topic: DeadLetterTopic,
    partition: Partition,
    offset: Offset,
    body: Replay,
) -> dict[str, Any]:
    value = body.value.encode("utf-8") if body.value is not None else None
    try:
        done: dict[str, Any] = _read(
            lambda: desk.replay(topic, partition, offset, value=value, by=administrator.subject)
        )
    except NotReplayable as exc:
        raise ApiError(409, "not_replayable", str(exc)) from None
    return done
