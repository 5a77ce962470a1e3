"""运维: the suite's services as an administrator sees them each morning (ready or not, which
version) and the dead letters each consuming service holds, in the county's words: why a
record was refused and what became of a replay."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["OUTCOMES", "REASONS", "SERVICES", "Letter", "ServiceState", "arrange"]

#: The services by what the people call them.
SERVICES = {
    "administration": "行政管理",
    "staffing": "人事",
    "referral": "转诊",
    "pharmacy": "药事",
    "quality": "医疗质量",
    "finance": "财务",
    "reporting": "统计报表",
    "gateway": "接口网关",
}

#: Why a record was dead-lettered (libs/events/codec.py, provenance.py, consuming/).
REASONS = {
    "bad_json": "不是有效的 JSON",
    "bad_envelope": "事件信封不完整或格式不对",
    "schema_violation": "数据不符合事件定义",
    "unknown_type": "未知的事件类型",
    "wrong_topic": "事件发到了错误的主题",
    "future_dated": "时间晚于当前时间",
    "forged_source": "来源与事件目录所列的发送方不符",
    "oversized": "记录过大",
    "undecodable": "无法解码",
    "conflicting_duplicate": "同一事件编号的内容前后不同",
    "conflicting_fact": "同一业务事实（如同一就诊）的内容前后不同",
    "exhausted_retries": "多次重试仍然失败",
    "handler_rejected": "业务规则拒绝",
    "unknown_facility": "机构不在本服务的机构目录中",
    "unknown_drug": "药品不在统一目录中",
    "too_large_to_publish": "处理结果过大，无法发布",
}

#: What became of a replay.
OUTCOMES = {
    "pending": "处理中",
    "applied": "已应用",
    "duplicate": "已应用过（重复）",
    "dead_lettered": "再次进入死信",
    "parked": "已暂存，等待主数据",
    "ignored": "本服务不处理此类事件",
}


@dataclass(frozen=True)
class ServiceState:
    service: str
    ready: bool | None  # None: it did not answer
    version: str | None
    failing: dict[str, str]
    open_letters: int | None  # None: it keeps no dead letters (consumes nothing) or refused


@dataclass(frozen=True)
class Letter:
    service: str
    summary: dict[str, Any]

    @property
    def resolved(self) -> bool:
        """Its latest replay left nothing more to do (the service that holds it says)."""
        return bool(self.summary.get("resolved"))

    @property
    def topic(self) -> str:
        return str(self.summary["position"]).rsplit("/", 2)[0]

    @property
    def path(self) -> str:
        """The letter's page under /operations/dead-letters."""
        return f"{self.service}/{self.summary['position']}"


def arrange(letters: list[Letter]) -> list[Letter]:
    """Every service's letters, those still to deal with first, then newest first."""
    ordered = sorted(letters, key=lambda x: str(x.summary.get("time") or ""), reverse=True)
    return sorted(ordered, key=lambda x: x.resolved)
