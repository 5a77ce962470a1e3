"""A facility's referral board (转诊看板): incoming and outgoing referrals, green channels
first, then the nearest deadline; and what the desk may do with each, in the county's words."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

__all__ = [
    "ACTIONS",
    "ACTION_NAMES",
    "DIRECTIONS",
    "GREEN_CHANNELS",
    "PRIORITIES",
    "STATES",
    "BoardLine",
    "arrange",
    "countdown",
]

STATES = {
    "requested": "待接收",
    "accepted": "已接收",
    "scheduled": "已预约",
    "arrived": "已到诊",
    "completed": "已完成",
    "rejected": "已拒绝",
    "cancelled": "已撤销",
    "expired": "已超时",
}
DIRECTIONS = {"up": "上转", "down": "下转"}
PRIORITIES = {"routine": "普通", "urgent": "加急", "emergency": "急诊"}
GREEN_CHANNELS = {"chest_pain": "胸痛", "stroke": "卒中", "trauma": "创伤"}
#: The receiving desk's actions by state (the referral service decides; this only offers).
ACTIONS = {
    "requested": ("accept", "reject"),
    "accepted": ("schedule", "arrive"),
    "scheduled": ("arrive", "schedule"),
    "arrived": ("complete",),
}
ACTION_NAMES = {
    "accept": "接收",
    "reject": "拒绝",
    "schedule": "预约",
    "arrive": "到诊",
    "complete": "完成",
}


@dataclass(frozen=True)
class BoardLine:
    referral: dict[str, Any]
    incoming: bool
    due_at: datetime | None

    @property
    def actions(self) -> tuple[str, ...]:
        return ACTIONS.get(self.referral["state"], ()) if self.incoming else ()


def arrange(referrals: list[dict[str, Any]], facility_id: str) -> list[BoardLine]:
    """Green channels first, then what is due soonest, then the newest."""
    lines = [BoardLine(r, r["to_facility_id"] == facility_id, _due(r)) for r in referrals]
    far = datetime.max.replace(tzinfo=None)
    return sorted(
        lines,
        key=lambda line: (
            line.referral.get("green_channel") is None,
            (line.due_at.replace(tzinfo=None) if line.due_at else far),
            line.referral["referral_id"],
        ),
    )


def _due(referral: dict[str, Any]) -> datetime | None:
    if referral["state"] != "requested":
        return None
    return datetime.fromisoformat(str(referral["accept_due_at"]))


def countdown(due_at: datetime | None, now: datetime) -> str:
    """``还剩 12 分`` / ``已超时 3 分`` / empty when nothing is due."""
    if due_at is None:
        return ""
    minutes = int((due_at - now).total_seconds() // 60)
    if minutes >= 0:
        hours, rest = divmod(minutes, 60)
        return f"还剩 {hours} 小时 {rest} 分" if hours else f"还剩 {rest} 分"
    return f"已超时 {-minutes} 分"
