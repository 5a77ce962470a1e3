"""When a member's feed is expected, when it is silent, and how fast a system may send."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.gateway.domain.feeds import FeedState, silent_since
from services.gateway.domain.rate import TokenBucket
from services.gateway.domain.systems import OpeningHours, digest_secret, secret_matches

ZONE = ZoneInfo("Asia/Shanghai")
HOURS = OpeningHours.parse(["08:00-12:00", "14:00-17:30"])
GAP = timedelta(minutes=30)


def local(hour: int, minute: int = 0, day: int = 3) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=ZONE)


def state(last: datetime | None, silent: datetime | None = None) -> FeedState:
    return FeedState(last_message_at=last, silent_since=silent, registered_at=local(0, day=1))


def test_opening_hours_say_when_the_current_period_opened() -> None:
    assert HOURS.open_since(local(9, 15)) == local(8)
    assert HOURS.open_since(local(12, 30)) is None
    assert HOURS.open_since(local(17, 29)) == local(14)
    assert OpeningHours.parse(["00:00-24:00"]).open_since(local(23, 59)) == local(0)
    assert HOURS.as_text() == ["08:00-12:00", "14:00-17:30"]
    with pytest.raises(ValueError, match="ends before"):
        OpeningHours.parse(["12:00-08:00"])


def test_a_feed_is_silent_only_after_the_gap_during_opening_hours() -> None:
    last = local(9, 0)
    assert silent_since(state(last), HOURS, GAP, now=local(9, 29), zone=ZONE) is None
    assert silent_since(state(last), HOURS, GAP, now=local(9, 31), zone=ZONE) == last
    # Closed at lunch: not silent however long ago the last message was.
    assert silent_since(state(last), HOURS, GAP, now=local(13, 0), zone=ZONE) is None
    # After lunch the silence is counted from the opening, not from the morning.
    assert silent_since(state(last), HOURS, GAP, now=local(14, 20), zone=ZONE) is None
    assert silent_since(state(last), HOURS, GAP, now=local(14, 31), zone=ZONE) == local(14)


def test_a_silence_is_announced_once() -> None:
    announced = state(local(9), silent=local(9))
    assert silent_since(announced, HOURS, GAP, now=local(11), zone=ZONE) is None


def test_a_feed_that_never_sent_is_silent_from_its_opening() -> None:
    assert silent_since(state(None), HOURS, GAP, now=local(8, 45), zone=ZONE) == local(8)
    utc_now = local(8, 45).astimezone(UTC)
    assert silent_since(state(None), HOURS, GAP, now=utc_now, zone=ZONE) == local(8)


def test_the_token_bucket_allows_a_burst_then_the_rate() -> None:
    bucket = TokenBucket(per_minute=60, burst=3)
    assert [bucket.take(0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take(0.0) == pytest.approx(1.0)
    assert bucket.take(1.0) == 0.0


def test_a_secret_is_kept_as_a_salted_digest() -> None:
    digest = digest_secret("s3cret", "salt")
    assert "s3cret" not in digest and secret_matches("s3cret", "salt", digest)
    assert not secret_matches("s3cret", "other", digest)
