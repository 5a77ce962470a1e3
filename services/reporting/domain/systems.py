"""Indicators of the members' information systems (信息系统一体化): the laboratory and imaging
work their systems report (检查检验), and the feed incidents the gateway detects, which say
whose other figures are incomplete (a silent HIS means visits missing)."""

from __future__ import annotations

from libs.events.catalogue.gateway import FeedResumed, FeedSilent
from libs.events.catalogue.ingestion import OrderPlaced, ResultReported
from services.reporting.domain.definition import ALL_LEVELS, Indicator

__all__ = ["SYSTEM_INDICATORS"]

_AT_THE_ORDERING_FACILITY = (
    "At the member facility that placed the order, rolled up to its community and the county."
)
_AT_THE_REPORTING_FACILITY = (
    "At the member facility whose laboratory or imaging system reported the result, rolled "
    "up to its community and the county."
)
_FEEDS_AT_THE_MEMBER = (
    "At the member facility whose system fell silent, rolled up to its community and the "
    "county: a facility with several systems (HIS, LIS, PACS) adds each system's incidents."
)
_SILENT_SPANS = (
    "An episode runs from the feed's `silent_since` (its last message, or the opening of the "
    "hours it was expected in) to its `resumed_at`; one still open counts up to now (brought "
    "up to date every minute) and is corrected to its `resumed_at` when it resumes. The "
    "gateway only reports silences during opening hours, but an episode that runs over "
    "closing time counts its minutes until it resumes. Whole minutes, on the county's clock."
)

SYSTEM_INDICATORS: tuple[Indicator, ...] = (
    Indicator(
        code="lab_tests_ordered",
        name="Laboratory tests ordered",
        name_zh="检验申请数",
        numerator="Laboratory test orders placed (`test_kind` `laboratory`)",
        denominator=None,
        factor=1,
        unit="orders",
        levels=ALL_LEVELS,
        levels_why=_AT_THE_ORDERING_FACILITY,
        sources=(OrderPlaced,),
        dated_by="`ordered_at`",
        decimals=0,
        notes="With `imaging_exams_ordered`, the tests ordered (检查检验申请数). An order sent "
        "again (under a new event id) counts once, by its facility and order id.",
    ),
    Indicator(
        code="imaging_exams_ordered",
        name="Imaging examinations ordered",
        name_zh="检查申请数",
        numerator="Imaging examination orders placed (`test_kind` `imaging`)",
        denominator=None,
        factor=1,
        unit="orders",
        levels=ALL_LEVELS,
        levels_why=_AT_THE_ORDERING_FACILITY,
        sources=(OrderPlaced,),
        dated_by="`ordered_at`",
        decimals=0,
    ),
    Indicator(
        code="lab_results_reported",
        name="Laboratory results reported",
        name_zh="检验结果数",
        numerator="Laboratory results reported (`test_kind` `laboratory`)",
        denominator=None,
        factor=1,
        unit="results",
        levels=ALL_LEVELS,
        levels_why=_AT_THE_REPORTING_FACILITY,
        sources=(ResultReported,),
        dated_by="`reported_at`",
        decimals=0,
        notes="With `imaging_results_reported`, the results reported (检查检验结果数). A result "
        "counts where and when it was reported, whether or not the facility placed an order "
        "for it; sent again, it counts once, by its facility and result id.",
    ),
    Indicator(
        code="imaging_results_reported",
        name="Imaging results reported",
        name_zh="检查结果数",
        numerator="Imaging results reported (`test_kind` `imaging`)",
        denominator=None,
        factor=1,
        unit="results",
        levels=ALL_LEVELS,
        levels_why=_AT_THE_REPORTING_FACILITY,
        sources=(ResultReported,),
        dated_by="`reported_at`",
        decimals=0,
    ),
    Indicator(
        code="feed_silent_episodes",
        name="Silent feed episodes",
        name_zh="信息系统数据中断次数",
        numerator="Episodes of a member system's feed falling silent during its opening hours",
        denominator=None,
        factor=1,
        unit="episodes",
        levels=ALL_LEVELS,
        levels_why=_FEEDS_AT_THE_MEMBER,
        sources=(FeedSilent, FeedResumed),
        dated_by="`silent_since`",
        decimals=0,
        notes="A facility with an episode in a period has incomplete figures for it (a silent "
        "HIS means visits and prescriptions missing). An episode counts once, by its system "
        "and `silent_since`, from the silence or, if that was never received, its resumption.",
    ),
    Indicator(
        code="feed_silent_minutes",
        name="Minutes of silent feeds",
        name_zh="信息系统数据中断时长",
        numerator="Minutes member systems' feeds were silent",
        denominator=None,
        factor=1,
        unit="minutes",
        levels=ALL_LEVELS,
        levels_why=_FEEDS_AT_THE_MEMBER,
        sources=(FeedSilent, FeedResumed),
        dated_by="`silent_since` to `resumed_at` (or now), split at the county's midnights",
        decimals=0,
        notes=_SILENT_SPANS,
    ),
)
