"""首页 · 主要指标: the few indicators the management centre and a member look at first
each morning (the county's, or a member's own), this month so far."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["KEY_INDICATORS", "Glance"]

#: 县域内就诊率, 基层就诊率, 下转/上转, 抗菌药物处方率, 医保打包预算执行进度.
KEY_INDICATORS = (
    "in_county_visit_rate",
    "primary_care_visit_share",
    "referral_down_up_ratio",
    "antibiotic_prescription_rate",
    "insurance_budget_pace",
)


@dataclass(frozen=True)
class Glance:
    code: str
    name: str
    value: str | None  # None: nothing counted this month yet
    unit: str
