"""人事: the week's expert timetable of one member as a grid of days and half-days, the
coverage rules in the county's words, and who may change what (the staffing service decides
every session; this only lays out its answer)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

__all__ = [
    "COVERAGE_RULES",
    "HALF_DAYS",
    "LEAVE_KINDS",
    "SESSION_STATES",
    "SPECIALTIES",
    "TITLES",
    "WEEKDAYS",
    "WEEK_STATES",
    "Day",
    "grid",
    "monday_of",
]

TITLES = {
    "chief": "主任医师",
    "associate_chief": "副主任医师",
    "attending": "主治医师",
    "resident": "住院医师",
}
HALF_DAYS = {"morning": "上午", "afternoon": "下午"}
#: The staff registry's specialties (English there) as the county's people say them.
SPECIALTIES = {
    "cardiology": "心血管内科",
    "neurology": "神经内科",
    "general surgery": "普通外科",
    "orthopaedics": "骨科",
    "endocrinology": "内分泌科",
    "respiratory medicine": "呼吸内科",
    "emergency medicine": "急诊医学科",
    "general practice": "全科医学",
    "TCM internal medicine": "中医内科",
    "acupuncture": "针灸科",
    "rehabilitation": "康复医学科",
}
LEAVE_KINDS = {
    "annual": "年假",
    "sick": "病假",
    "training": "进修培训",
    "personal": "事假",
    "unavailable": "其他公务（不能出诊）",
}
WEEK_STATES = {"draft": "草稿（未发布）", "published": "已发布", "closed": "已结束"}
SESSION_STATES = {
    "planned": "已排班",
    "checked_in": "已到岗",
    "checked_out": "已离岗",
    "no_show": "未到岗",
    "cancelled": "已取消",
}
WEEKDAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
#: infra/staffing/rules.yaml's coverage rules, as the personnel office says them.
COVERAGE_RULES = {
    "senior_community_day": "副主任医师及以上专家每周至少一天在社区卫生服务中心坐诊",
    "specialist_days_down": "牵头医院专家平均每周下沉约两天（1.5 天及以上达标）",
    "township_stationed_physician": "每个乡镇卫生院至少有一名牵头医院医师驻点半年以上",
}


@dataclass(frozen=True)
class Day:
    day: date
    weekday: str
    sessions: dict[str, list[dict[str, Any]]]  # by half-day


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def grid(monday: date, sessions: list[dict[str, Any]]) -> list[Day]:
    """The week's seven days, each with its sessions by half-day (cancelled ones left out)."""
    days = []
    for offset, weekday in enumerate(WEEKDAYS):
        day = monday + timedelta(days=offset)
        by_half: dict[str, list[dict[str, Any]]] = {half: [] for half in HALF_DAYS}
        for session in sessions:
            if session["date"] == day.isoformat() and session["status"] != "cancelled":
                by_half.setdefault(session["half_day"], []).append(session)
        days.append(Day(day, weekday, by_half))
    return days
