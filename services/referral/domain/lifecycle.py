"""The referral lifecycle as an explicit state machine (the two-way referral profile).

    requested ─accept─▶ accepted ─schedule─▶ scheduled ─arrive─▶ arrived ─complete─▶ completed
      │ reject ▶ rejected  │ (emergency: arrive at once) │ (reschedule)
      │ cancel ▶ cancelled ◀┴──────────── cancel ─────────┘
        └ expire ▶ expired (the SLA job, never a person)

Each action belongs to one party: the receiving facility decides, schedules and closes; the
referring facility may withdraw; only the system lets a referral lapse.
"""

from __future__ import annotations

from enum import StrEnum

from libs.events.catalogue.values import ReferralPriority

__all__ = [
    "ACTION_PARTY",
    "TERMINAL_STATES",
    "Action",
    "InvalidTransition",
    "Party",
    "ReferralState",
    "allowed_actions",
    "next_state",
    "party_facility",
]


class ReferralState(StrEnum):
    REQUESTED = "requested"  # 申请: sent, waiting for the receiving facility
    ACCEPTED = "accepted"  # 已接收
    REJECTED = "rejected"  # 已拒绝
    SCHEDULED = "scheduled"  # 已预约: a slot or bed is held
    ARRIVED = "arrived"  # 已到达
    COMPLETED = "completed"  # 已完成: care handed over, record returned
    CANCELLED = "cancelled"  # 已撤销
    EXPIRED = "expired"  # 已过期: never decided


class Action(StrEnum):
    ACCEPT = "accept"
    REJECT = "reject"
    SCHEDULE = "schedule"
    ARRIVE = "arrive"
    COMPLETE = "complete"
    CANCEL = "cancel"
    EXPIRE = "expire"


class Party(StrEnum):
    RECEIVER = "receiver"  # the facility the patient is sent to
    REFERRER = "referrer"  # the facility that sent the patient
    SYSTEM = "system"  # the SLA job


ACTION_PARTY: dict[Action, Party] = {
    Action.ACCEPT: Party.RECEIVER,
    Action.REJECT: Party.RECEIVER,
    Action.SCHEDULE: Party.RECEIVER,
    Action.ARRIVE: Party.RECEIVER,
    Action.COMPLETE: Party.RECEIVER,
    Action.CANCEL: Party.REFERRER,
    Action.EXPIRE: Party.SYSTEM,
}

_S, _A = ReferralState, Action
_TRANSITIONS: dict[ReferralState, dict[Action, ReferralState]] = {
    _S.REQUESTED: {
        _A.ACCEPT: _S.ACCEPTED,
        _A.REJECT: _S.REJECTED,
        _A.CANCEL: _S.CANCELLED,
        _A.EXPIRE: _S.EXPIRED,
    },
    _S.ACCEPTED: {_A.SCHEDULE: _S.SCHEDULED, _A.ARRIVE: _S.ARRIVED, _A.CANCEL: _S.CANCELLED},
    # Scheduling again moves the appointment (the held slot moves with it).
    _S.SCHEDULED: {_A.SCHEDULE: _S.SCHEDULED, _A.ARRIVE: _S.ARRIVED, _A.CANCEL: _S.CANCELLED},
    _S.ARRIVED: {_A.COMPLETE: _S.COMPLETED},
}


def party_facility(action: Action, *, from_facility_id: str, to_facility_id: str) -> str | None:
    """The facility whose staff take ``action`` on a referral (None: only the system does)."""
    party = ACTION_PARTY[action]
    if party is Party.SYSTEM:
        return None
    return to_facility_id if party is Party.RECEIVER else from_facility_id


TERMINAL_STATES = frozenset(s for s in ReferralState if s not in _TRANSITIONS)


def _permitted(state: ReferralState, action: Action, priority: ReferralPriority) -> bool:
    if action not in _TRANSITIONS.get(state, {}):
        return False
    # A green-channel or other emergency patient is on the way as soon as the hospital
    # accepts: nobody books a slot for them. Everyone else arrives at a scheduled time.
    if state is ReferralState.ACCEPTED and action is Action.ARRIVE:
        return priority is ReferralPriority.EMERGENCY
    return True


def allowed_actions(
    state: ReferralState, priority: ReferralPriority, *, include_system: bool = False
) -> list[Action]:
    """The actions a referral in ``state`` admits, in lifecycle order."""
    return [
        action
        for action in Action
        if _permitted(state, action, priority)
        and (include_system or ACTION_PARTY[action] is not Party.SYSTEM)
    ]


class InvalidTransition(Exception):
    """An action the referral's current state does not admit."""

    def __init__(self, state: ReferralState, action: Action, allowed: list[Action]) -> None:
        listed = ", ".join(a.value for a in allowed) or "none (the referral is closed)"
        super().__init__(
            f"a referral that is {state.value} cannot {action.value}; allowed: {listed}"
        )
        self.state = state
        self.action = action
        self.allowed = allowed


def next_state(state: ReferralState, action: Action, priority: ReferralPriority) -> ReferralState:
    """The state after ``action``, or :class:`InvalidTransition` listing the allowed ones."""
    if not _permitted(state, action, priority):
        raise InvalidTransition(state, action, allowed_actions(state, priority))
    return _TRANSITIONS[state][action]
