"""财务: the books in the county's words — what each journal entry records (记账类型), the
settlement runs (结算), an accounting period's state — and which ended months the finance
centre may still close. The finance service posts, settles and closes; this only names."""

from __future__ import annotations

from datetime import date

from services.console.domain.months import ended_months, month_name

__all__ = ["ENTRY_TYPES", "PERIOD_STATES", "RUN_KINDS", "closable", "month_name", "run_kind"]

ENTRY_TYPES = {
    "budget_prepayment": "医保打包预付",
    "visit_claim": "就诊费用结算",
    "dispense": "药品调剂",
    "transfer_settlement": "药品调拨结算",
    "write_off": "药品报损",
    "stock_receipt": "药品入库",
    "stock_adjustment": "盘点差异",
    "referral_fee": "转诊内部费用",
    "session_fee": "专家坐诊费用",
    "internal_settlement": "内部结算",
    "performance_pay": "绩效分配",
    "budget_settlement": "医保月度预结算",
    "budget_reconciliation": "医保年终清算",
    "recognition_saving": "检查检验结果互认节约（备查）",
}
RUN_KINDS = {
    "internal": "成员单位内部结算",
    "performance_pay": "绩效分配",
    "budget_provisional": "医保月度预结算",
    "budget_reconciliation": "医保年终清算",
    "drug_transfer": "药品调拨",
    "referral_fee": "转诊费用",
    "session_fee": "专家坐诊费用",
    "shared_pharmacy_fee": "共享中药房服务费",
}
PERIOD_STATES = {"open": "未结账", "closed": "已结账"}


def run_kind(kind: str) -> str:
    """A settlement run's kind in words (an appraisal fund's runs are numbered revisions)."""
    if kind.startswith("appraisal_fund:r"):
        return f"考核奖惩资金（第 {int(kind.rsplit('r', 1)[1])} 版）"
    return RUN_KINDS.get(kind, kind)


def closable(today: date, closed: set[str], count: int = 12) -> list[str]:
    """The ended months of the last ``count`` not closed yet, newest first."""
    return [period for period in ended_months(today, count) if period not in closed]
