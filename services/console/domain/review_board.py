"""审方: the review centre's queue of held prescriptions, the rules' findings in the county's
words (处方审核规范), and how long each has left before its SLA."""

from __future__ import annotations

__all__ = ["RULES", "SEVERITIES", "STATES"]

RULES = {
    "antibiotic_privilege": "抗菌药物处方权",
    "antibiotic_facility_grade": "抗菌药物分级管理（机构）",
    "antibiotic_special_outpatient": "特殊使用级抗菌药物（门诊）",
    "dose_limit": "超剂量",
    "duplicate_drug": "重复用药",
    "duplicate_therapy": "重复治疗",
    "interaction": "相互作用",
    "pregnancy": "妊娠禁忌",
    "age": "年龄禁忌",
}
SEVERITIES = {"warning": "提示", "hold": "人工审核", "reject": "不予通过"}
STATES = {"held": "待审核", "released": "已通过", "rejected": "已退回"}
