"""A session's state machine: each transition once, a clear answer for a repeat."""

from __future__ import annotations

from datetime import date

import pytest

from services.staffing.domain.sessions import Action, SessionStatus, TransitionRefused, transition

DAY = date(2027, 3, 2)
S, A = SessionStatus, Action


@pytest.mark.parametrize(
    ("status", "action", "after"),
    [
        (S.PLANNED, A.CHECK_IN, S.CHECKED_IN),
        (S.CHECKED_IN, A.CHECK_OUT, S.DELIVERED),
        (S.PLANNED, A.NO_SHOW, S.MISSED),
        (S.PLANNED, A.CANCEL, S.CANCELLED),
    ],
)
def test_allowed_transitions(status: SessionStatus, action: Action, after: SessionStatus) -> None:
    assert transition(status, action, session_date=DAY, today=DAY) is after


@pytest.mark.parametrize(
    ("status", "action", "code"),
    [
        (S.CHECKED_IN, A.CHECK_IN, "already_checked_in"),
        (S.DELIVERED, A.CHECK_IN, "already_delivered"),
        (S.DELIVERED, A.CHECK_OUT, "already_delivered"),
        (S.PLANNED, A.CHECK_OUT, "not_checked_in"),
        (S.MISSED, A.CHECK_IN, "recorded_as_missed"),
        (S.CANCELLED, A.CHECK_IN, "session_cancelled"),
        (S.CHECKED_IN, A.NO_SHOW, "already_checked_in"),
        (S.CHECKED_IN, A.CANCEL, "already_checked_in"),
        (S.CANCELLED, A.CANCEL, "session_cancelled"),
    ],
)
def test_a_repeated_or_impossible_action_is_refused(
    status: SessionStatus, action: Action, code: str
) -> None:
    with pytest.raises(TransitionRefused) as refused:
        transition(status, action, session_date=DAY, today=DAY)
    assert refused.value.code == code
    assert refused.value.status is status


@pytest.mark.parametrize("action", [A.CHECK_IN, A.NO_SHOW])
def test_nobody_arrives_or_misses_a_session_before_its_day(action: Action) -> None:
    with pytest.raises(TransitionRefused) as refused:
        transition(S.PLANNED, action, session_date=DAY, today=date(2027, 3, 1))
    assert refused.value.code == "too_early"
