"""The referral state machine: the profile's order, refusals listing the allowed actions."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from libs.events.catalogue.values import ReferralPriority
from services.referral.domain.lifecycle import (
    ACTION_PARTY,
    TERMINAL_STATES,
    Action,
    InvalidTransition,
    Party,
    ReferralState,
    allowed_actions,
    next_state,
    party_facility,
)

S, A, P = ReferralState, Action, ReferralPriority


def run(*actions: Action, priority: ReferralPriority = ReferralPriority.URGENT) -> ReferralState:
    state = S.REQUESTED
    for action in actions:
        state = next_state(state, action, priority)
    return state


def test_the_profile_s_path_from_request_to_completion() -> None:
    assert run(A.ACCEPT, A.SCHEDULE, A.ARRIVE, A.COMPLETE) is S.COMPLETED
    assert run(A.ACCEPT, A.SCHEDULE, A.SCHEDULE) is S.SCHEDULED  # moved appointment
    assert run(A.REJECT) is S.REJECTED
    assert run(A.EXPIRE) is S.EXPIRED
    assert run(A.ACCEPT, A.SCHEDULE, A.CANCEL) is S.CANCELLED


def test_a_referral_cannot_be_accepted_twice_and_the_refusal_lists_what_is_allowed() -> None:
    with pytest.raises(InvalidTransition) as refused:
        run(A.ACCEPT, A.ACCEPT)
    assert refused.value.state is S.ACCEPTED
    assert refused.value.allowed == [A.SCHEDULE, A.CANCEL]
    assert "allowed: schedule, cancel" in str(refused.value)


def test_completion_needs_arrival() -> None:
    for path in [(A.ACCEPT,), (A.ACCEPT, A.SCHEDULE), ()]:
        with pytest.raises(InvalidTransition):
            run(*path, A.COMPLETE)


def test_only_emergencies_arrive_without_a_schedule() -> None:
    assert run(A.ACCEPT, A.ARRIVE, priority=P.EMERGENCY) is S.ARRIVED
    with pytest.raises(InvalidTransition) as refused:
        run(A.ACCEPT, A.ARRIVE, priority=P.ROUTINE)
    assert A.ARRIVE not in refused.value.allowed
    assert A.ARRIVE in allowed_actions(S.ACCEPTED, P.EMERGENCY)


def test_closed_referrals_admit_nothing() -> None:
    assert {S.REJECTED, S.COMPLETED, S.CANCELLED, S.EXPIRED} == TERMINAL_STATES
    for state in TERMINAL_STATES:
        assert allowed_actions(state, P.EMERGENCY, include_system=True) == []
        with pytest.raises(InvalidTransition, match="none"):
            next_state(state, A.CANCEL, P.ROUTINE)


def test_expiry_is_the_system_s_alone() -> None:
    assert ACTION_PARTY[A.EXPIRE] is Party.SYSTEM
    assert A.EXPIRE not in allowed_actions(S.REQUESTED, P.ROUTINE)
    assert A.EXPIRE in allowed_actions(S.REQUESTED, P.ROUTINE, include_system=True)


def test_each_action_is_taken_by_its_party_s_facility() -> None:
    parties = {"from_facility_id": "CLINIC", "to_facility_id": "HOSPITAL"}
    assert party_facility(A.ACCEPT, **parties) == "HOSPITAL"
    assert party_facility(A.COMPLETE, **parties) == "HOSPITAL"
    assert party_facility(A.CANCEL, **parties) == "CLINIC"
    assert party_facility(A.EXPIRE, **parties) is None  # nobody's staff: the SLA job


@given(
    st.lists(st.sampled_from(list(Action)), max_size=12), st.sampled_from(list(ReferralPriority))
)
def test_any_sequence_of_actions_follows_the_allowed_list(
    actions: list[Action], priority: ReferralPriority
) -> None:
    """Whatever is tried, an action succeeds exactly when it was listed as allowed, closed
    states stay closed, and completion is only ever reached through arrival."""
    state, seen = S.REQUESTED, [S.REQUESTED]
    for action in actions:
        allowed = allowed_actions(state, priority, include_system=True)
        if action not in allowed:
            with pytest.raises(InvalidTransition) as refused:
                next_state(state, action, priority)
            assert refused.value.allowed == [
                a for a in allowed if ACTION_PARTY[a] is not Party.SYSTEM
            ]
            continue
        after = next_state(state, action, priority)
        assert state not in TERMINAL_STATES
        state = after
        seen.append(state)
    if S.COMPLETED in seen:
        assert S.ARRIVED in seen[: seen.index(S.COMPLETED)]
    if S.ARRIVED in seen and priority is not P.EMERGENCY:
        assert S.SCHEDULED in seen[: seen.index(S.ARRIVED)]
