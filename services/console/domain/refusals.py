"""Why a service refused, in the county's words: the services answer in one error shape
(``{"error": code, "message": English text}``), and a person at a clinic reads Chinese. The
codes a person can meet from a console page are named here; an unknown one falls back to
the status's meaning with the service's own words (and the code, for the help desk)."""

from __future__ import annotations

__all__ = ["REFUSALS", "explain"]

REFUSALS = {
    # Any service.
    "not_found": "要办理的记录不存在或已被删除",
    "forbidden": "您无权查看或办理此项",
    "invalid_transition": "当前状态不允许此操作，请刷新页面查看最新状态",
    "invalid_period": "期间格式有误",
    "invalid_month": "月份格式有误（应为 YYYY-MM）",
    "rate_limited": "操作过于频繁，请稍后再试",
    "unknown_facility": "机构不在本县医共体的成员目录中",
    "unknown_reason": "所选原因不存在，或不属于所选的类别（如处方点评：只勾选该结论类别下的原因）",
    # 转诊
    "reason_required": "须写明原因",
    "scheduled_for_required": "请填写预约时间",
    "scheduled_for_out_of_range": "预约时间超出允许范围",
    "day_in_past": "日期已过",
    "requested_in_future": "申请时间晚于当前时间",
    "requested_too_long_ago": "申请时间过早，已超出受理期限",
    "same_facility": "转出与转入（调出与调入）机构不能相同",
    "priority_not_allowed": "该转诊方向不允许此优先级",
    "direction_mismatch": "转诊方向与机构层级不符",
    # 药事
    "insufficient_stock": "库存不足",
    "unknown_drug": "药品不在统一目录中",
    "delisted": "药品已停用",
    "unknown_transfer": "调拨单不存在",
    "duplicate_line": "同一药品重复填写",
    "no_lines": "至少填写一种药品",
    "no_central_pharmacy": "本医共体未设中心药房",
    "invalid_quantity": "数量有误",
    "invalid_quantities": "数量有误",
    "lot_mismatch": "批号与药品不符",
    "unknown_lot": "批号不存在",
    "expired_lot": "批次已过期",
    # 人事 (the staffing service names the scheduling rules a change breaks)
    "rule_violated": "违反排班规则",
    "double_booking": "该专家此时段已有排班",
    "home_facility": "专家不能在本人所在机构下沉坐诊",
    "not_a_specialist": "只有主治医师及以上职称可以下沉坐诊",
    "not_a_host_facility": "该机构不接收专家下沉坐诊",
    "in_the_past": "不能安排已过去的时间",
    "not_a_monday": "排班周须从周一开始",
    "week_already_published": "该周排班已发布",
    "week_closed": "该周排班已截止",
    "not_published": "尚未发布",
    "position_filled": "该编制岗位已有人员",
    "position_elsewhere": "该编制岗位属于其他机构",
    "stationed_elsewhere": "该医师正在其他机构驻点",
    "staff_on_leave": "该医师此时段请假",
    "on_leave": "该医师此时段请假（或请假期间已有排班：可勾选同时取消已排坐诊）",
    "staff_not_active": "该人员已不在岗",
    "travel_impossible": "同一天两地坐诊，路程时间不够",
    "too_many_sessions": "超出每周坐诊次数上限",
    "session_cancelled": "该坐诊已取消",
    "unknown_staff": "人员不在人员名册中",
    "unknown_position": "岗位不存在",
    "period_too_long": "所选期间过长",
    # 审方与处方点评
    "not_drawn": "该月尚未抽样",
    "month_not_ended": "该月尚未结束或未到抽样日期",
    "unknown_verdict": "未知的点评结论",
    "reasons_for_rational": "合理处方不应选择不合理原因",
    "reasons_required": "不合理处方须选择至少一项该类别的原因",
    "verdicts_missing": "尚有抽中的处方未点评，不能发布",
    "already_published": "点评结果已发布，不能再修改",
    "unknown_review": "审方记录不存在",
    # 考核
    "adjustment_too_large": "调整分值超出上限",
    "no_members": "没有可考核的成员单位",
    "appraisal_not_draft": "考核已批准，不能再修改；如需更正请生成新版本",
    # 财务
    "period_closed": "该会计期间已结账",
    "period_not_ended": "该会计期间尚未结束，不能结账",
    "year_not_ended": "该年度尚未结束",
    "unbalanced": "借贷不平衡",
    "unknown_account": "科目不存在",
}


def explain(code: str | None) -> str | None:
    """The code's meaning for a person, or None when the console does not know it."""
    return REFUSALS.get(code or "")
