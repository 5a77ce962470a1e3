"""Indicators of the monthly prescription audit (处方点评, 《医院处方点评管理规范（试行）》):
of the prescriptions the review centre sampled and judged, the share it judged irrational
(不规范处方, 用药不适宜处方 or 超常处方), and how many it judged.

A member's month is published once, with every sampled prescription judged: the indicators
are monthly (the audit's period) and dated by the audited month, not by the day the results
were published."""

from __future__ import annotations

from libs.events.catalogue.quality import AuditCompleted
from libs.events.catalogue.reporting import PeriodKind
from services.reporting.domain.definition import ALL_LEVELS, Indicator

__all__ = ["AUDIT_INDICATORS"]

_AT_THE_AUDITED_FACILITY = (
    "At the audited member facility, rolled up to its community and the county: numerator "
    "and denominator add up level by level, so a community's rate is over all of its members' "
    "sampled prescriptions (each member's sample is at least 100 or 1‰ of its month)."
)
_REVIEWED = "Sampled prescriptions the review centre's audit judged (every one, when published)"
_DATED = "the audited `month` (the county month the prescriptions were issued in)"
_ONCE = (
    "A member's month counts once, when its audit is published, by its facility and month "
    "whatever the event id."
)

AUDIT_INDICATORS: tuple[Indicator, ...] = (
    Indicator(
        code="irrational_prescription_rate",
        name="Irrational prescription rate",
        name_zh="不合理处方率",
        numerator="Sampled prescriptions the audit judged irrational: 不规范处方 "
        "(non_standard), 用药不适宜处方 (inappropriate) or 超常处方 (abnormal)",
        denominator=_REVIEWED,
        factor=100,
        unit="%",
        levels=ALL_LEVELS,
        levels_why=_AT_THE_AUDITED_FACILITY,
        sources=(AuditCompleted,),
        dated_by=_DATED,
        periods=(PeriodKind.MONTH,),
        notes="Monthly only: the audit samples a month. " + _ONCE,
    ),
    Indicator(
        code="audit_prescriptions_reviewed",
        name="Prescriptions audited",
        name_zh="点评处方数",
        numerator=_REVIEWED,
        denominator=None,
        factor=1,
        unit="prescriptions",
        levels=ALL_LEVELS,
        levels_why=_AT_THE_AUDITED_FACILITY,
        sources=(AuditCompleted,),
        dated_by=_DATED,
        periods=(PeriodKind.MONTH,),
        decimals=0,
        notes=_ONCE,
    ),
)
