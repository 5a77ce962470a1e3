"""Silent feeds (the gateway's incidents): an episode counts once at its member, and its
minutes are counted up to now while it lasts (:func:`count_silences_to_now`, a periodic job)
and moved to its end when it resumes.

Each episode is a row (:class:`FeedEpisode`) holding the instant its minutes were counted up
to; the handlers and the job lock it before moving that instant, so two processes never
count the same minutes twice (the job skips an episode a consumer is updating: the next run
catches up)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from libs.events.catalogue.gateway import FeedResumed, FeedSilent
from services.reporting.adapters.schema import FeedEpisode
from services.reporting.domain import rules
from services.reporting.service_layer.unit_of_work import ReportingUnitOfWork

__all__ = ["count_silences_to_now", "on_feed_resumed", "on_feed_silent", "restore_episode"]

#: Open episodes brought up to date per run of the job (the rest wait for the next run).
JOB_BATCH = 500


def on_feed_silent(data: FeedSilent, uow: ReportingUnitOfWork) -> None:
    """A new episode: counted on the day it began, its minutes up to its detection."""
    member = uow.member(data.facility_id)
    if _episode(uow, data.system_id, data.silent_since) is not None:
        return  # known already (announced again, or its resumption came first)
    detected = max(data.detected_at, data.silent_since)
    uow.session.add(
        FeedEpisode(
            system_id=data.system_id,
            silent_since=_text(data.silent_since),
            facility_id=data.facility_id,
            counted_to=_utc(detected),
            resumed=False,
        )
    )
    uow.record(rules.silence_began(member, data.silent_since, uow.county))
    uow.record(rules.silence_moved(member, data.silent_since, detected, uow.county))


def on_feed_resumed(data: FeedResumed, uow: ReportingUnitOfWork) -> None:
    """The episode ends at ``resumed_at``: its minutes move there from where they were
    counted to. One whose silence never arrived counts whole, as an episode too."""
    member = uow.member(data.facility_id)
    episode = _episode(uow, data.system_id, data.silent_since)
    if episode is None:
        uow.session.add(
            FeedEpisode(
                system_id=data.system_id,
                silent_since=_text(data.silent_since),
                facility_id=data.facility_id,
                counted_to=_utc(data.resumed_at),
                resumed=True,
            )
        )
        uow.record(rules.silence_began(member, data.silent_since, uow.county))
        uow.record(rules.silence_moved(member, data.silent_since, data.resumed_at, uow.county))
        return
    if episode.resumed:
        return  # resumed already
    uow.record(rules.silence_moved(member, _utc(episode.counted_to), data.resumed_at, uow.county))
    episode.counted_to, episode.resumed = _utc(data.resumed_at), True


def count_silences_to_now(uow: ReportingUnitOfWork) -> int:
    """Count every open episode's minutes up to now; how many episodes moved."""
    moved = 0
    with uow:
        now = _utc(uow.county.clock.now())
        open_episodes = uow.session.scalars(
            select(FeedEpisode)
            .where(FeedEpisode.resumed.is_(False))
            .order_by(FeedEpisode.system_id, FeedEpisode.silent_since)
            .limit(JOB_BATCH)
            .with_for_update(skip_locked=True)
        ).all()
        for episode in open_episodes:
            counted_to = _utc(episode.counted_to)
            if counted_to >= now:
                continue
            member = uow.member(episode.facility_id)
            uow.record(rules.silence_moved(member, counted_to, now, uow.county))
            episode.counted_to = now
            moved += 1
        uow.commit()
    return moved


def restore_episode(session: Session, data: FeedSilent | FeedResumed, now: datetime) -> bool:
    """Restore an episode's row from the gateway's event, counting nothing (a rebuild: the
    cells come from the changelog). An open one is taken as counted up to ``now``; whether
    a row was added."""
    key = (data.system_id, _text(data.silent_since))
    episode = session.get(FeedEpisode, key)
    if isinstance(data, FeedResumed):
        if episode is None:
            episode = FeedEpisode(system_id=key[0], silent_since=key[1])
            episode.facility_id = data.facility_id
            session.add(episode)
        episode.counted_to, episode.resumed = _utc(data.resumed_at), True
    elif episode is None:
        session.add(
            FeedEpisode(
                system_id=key[0],
                silent_since=key[1],
                facility_id=data.facility_id,
                counted_to=_utc(now),
                resumed=False,
            )
        )
    else:
        return False
    session.flush()
    return True


def _episode(
    uow: ReportingUnitOfWork, system_id: str, silent_since: datetime
) -> FeedEpisode | None:
    return uow.session.scalars(
        select(FeedEpisode)
        .where(
            FeedEpisode.system_id == system_id,
            FeedEpisode.silent_since == _text(silent_since),
        )
        .with_for_update()
    ).one_or_none()


def _utc(instant: datetime) -> datetime:
    """In UTC (SQLite hands stored instants back naive; they were stored in UTC)."""
    return instant.replace(tzinfo=UTC) if instant.tzinfo is None else instant.astimezone(UTC)


def _text(instant: datetime) -> str:
    return _utc(instant).isoformat(timespec="microseconds")
