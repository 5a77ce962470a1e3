"""The county's indicators, each defined once (DHIS2's model: numerator, denominator, factor,
period, organisation unit).

Everything else follows from these definitions: the handlers compute cells only at the
levels and periods listed here, the admin API serves this catalogue, the Prometheus gauges
are labelled by these codes and ``docs/indicators.md`` is generated from them.
"""

from __future__ import annotations

from libs.events.catalogue.finance import ClaimValued
from libs.events.catalogue.ingestion import PrescriptionIssued, PrescriptionIssuedV2, VisitRecorded
from libs.events.catalogue.pharmacy import ExpiryScanned, Restocked, ShortageRecorded, StockedOut
from libs.events.catalogue.referral import ReferralRequested, ReferralSlaBreached
from libs.events.catalogue.staffing import SessionDelivered, StationingEnded, StationingStarted
from services.reporting.domain.audit import AUDIT_INDICATORS
from services.reporting.domain.definition import (
    ALL_LEVELS,
    COMMUNITY,
    COUNTY,
    FACILITY_ROLLUP,
    Behaviour,
    Indicator,
    UnknownIndicator,
)
from services.reporting.domain.herbal import HERBAL_INDICATORS
from services.reporting.domain.quality import QUALITY_INDICATORS
from services.reporting.domain.systems import SYSTEM_INDICATORS

__all__ = ["INDICATORS", "Behaviour", "Indicator", "UnknownIndicator", "indicator"]

INDICATORS: tuple[Indicator, ...] = (
    Indicator(
        code="in_county_visit_rate",
        name="In-county visit rate",
        name_zh="县域内就诊率",
        numerator="Visits of county insurees at facilities inside the county",
        denominator="All visits of county insurees, inside and outside the county",
        factor=100,
        unit="%",
        levels=(COUNTY,),
        levels_why="County only. The denominator counts visits outside the county, which "
        "belong to no member facility, and a visit names no insuree community (the insuree's "
        "residence is not on the event), so the rate has no facility or community of its own.",
        sources=(VisitRecorded,),
        dated_by="`occurred_at`",
        notes="A county insuree is a patient insured under this county's fund "
        "(`insured_in_county`) who is not self-paying, as finance values claims.",
    ),
    Indicator(
        code="primary_care_visit_share",
        name="Primary-care visit share",
        name_zh="基层就诊率",
        numerator="Visits at primary-tier facilities inside the county",
        denominator="All visits at facilities inside the county",
        factor=100,
        unit="%",
        levels=(COMMUNITY, COUNTY),
        levels_why="Community and county. For one facility the share is 100 % or 0 % by its "
        "tier, which says nothing; a community's share is its primary members' visits over "
        "all of its members' visits.",
        sources=(VisitRecorded,),
        dated_by="`occurred_at`",
        notes="Every patient counts (insurees of other funds and self-payers too). The tier "
        "and community are the organisation's (the directory copy), not the HIS's.",
    ),
    Indicator(
        code="referrals_up",
        name="Referrals up",
        name_zh="上转人次",
        numerator="Referrals requested upwards (clinic → county hospital)",
        denominator=None,
        factor=1,
        unit="referrals",
        levels=ALL_LEVELS,
        levels_why="At the referring facility, rolled up to its community and the county.",
        sources=(ReferralRequested,),
        dated_by="`requested_at`",
        decimals=0,
    ),
    Indicator(
        code="referrals_down",
        name="Referrals down",
        name_zh="下转人次",
        numerator="Referrals requested downwards (county hospital → clinic)",
        denominator=None,
        factor=1,
        unit="referrals",
        levels=ALL_LEVELS,
        levels_why="At the referring facility, rolled up to its community and the county.",
        sources=(ReferralRequested,),
        dated_by="`requested_at`",
        decimals=0,
    ),
    Indicator(
        code="referral_down_up_ratio",
        name="Down-to-up referral ratio",
        name_zh="下转上转比",
        numerator="Referrals requested downwards",
        denominator="Referrals requested upwards",
        factor=1,
        unit="ratio",
        levels=(COMMUNITY, COUNTY),
        levels_why="Community and county. A facility refers in one direction only (clinics "
        "up, hospitals down), so its own ratio is 0 or undefined.",
        sources=(ReferralRequested,),
        dated_by="`requested_at`",
        notes="Each referral counts in the referring facility's community.",
    ),
    Indicator(
        code="referral_sla_breaches",
        name="Referral SLA breaches",
        name_zh="转诊超时",
        numerator="Referral stages that missed their service level (at most one per referral "
        "and stage)",
        denominator=None,
        factor=1,
        unit="breaches",
        levels=ALL_LEVELS,
        levels_why="At the receiving facility, whose decision or reception was late, rolled "
        "up to its community and the county.",
        sources=(ReferralSlaBreached,),
        dated_by="`breached_at`",
        decimals=0,
    ),
    Indicator(
        code="tcm_prescription_share",
        name="TCM share of prescriptions",
        name_zh="中医药处方占比",
        numerator="Prescriptions of TCM patent medicines or herbal pieces (`tcm_patent`, "
        "`tcm_herbal`)",
        denominator="All prescriptions",
        factor=100,
        unit="%",
        levels=ALL_LEVELS,
        levels_why=FACILITY_ROLLUP,
        sources=(PrescriptionIssued, PrescriptionIssuedV2),
        dated_by="`issued_at`",
    ),
    Indicator(
        code="stocked_out_items",
        name="Stocked-out items",
        name_zh="断货品种数",
        numerator="Drugs and items a facility has no available stock of",
        denominator=None,
        factor=1,
        unit="items",
        levels=ALL_LEVELS,
        levels_why=FACILITY_ROLLUP,
        sources=(StockedOut, Restocked),
        dated_by="`occurred_at`",
        behaviour=Behaviour.LEVEL,
        decimals=0,
        notes="+1 when pharmacy announces an item stocked out, −1 when it is restocked "
        "(pharmacy announces each crossing of zero once).",
    ),
    Indicator(
        code="shortages_recorded",
        name="Shortages recorded",
        name_zh="缺药登记数",
        numerator="Demands (prescription lines, referral plans) that stock could not fill",
        denominator=None,
        factor=1,
        unit="shortages",
        levels=ALL_LEVELS,
        levels_why=FACILITY_ROLLUP,
        sources=(ShortageRecorded,),
        dated_by="`recorded_at`",
        decimals=0,
    ),
    Indicator(
        code="near_expiry_value",
        name="Near-expiry stock value",
        name_zh="近效期药品金额",
        numerator="Stock at cost expiring within the scan's horizon (180 days by default), "
        "from each facility's latest expiry scan",
        denominator=None,
        factor=1,
        unit="yuan",
        levels=ALL_LEVELS,
        levels_why=FACILITY_ROLLUP + " A community's value is the sum of its facilities' "
        "latest scans.",
        sources=(ExpiryScanned,),
        dated_by="`scanned_on`",
        behaviour=Behaviour.LEVEL,
        notes="A scan dated before the facility's latest one is ignored.",
    ),
    Indicator(
        code="insurance_budget_pace",
        name="Insurance budget consumed vs calendar",
        name_zh="医保打包预算执行进度",
        numerator="Bundle payouts of claims whose visit falls in the period",
        denominator="The calendar's share of the year's budget for the period (budget × days "
        "in the period ÷ days in the year)",
        factor=100,
        unit="%",
        levels=(COMMUNITY, COUNTY),
        levels_why="Community and county: the bundle is a community's (a claim names the "
        "community whose bundle pays it); the county adds up its communities' payouts and "
        "allowances. Facilities have no budget.",
        sources=(ClaimValued,),
        dated_by="`occurred_at`",
        notes="100 % means the bundle is being consumed exactly at the calendar's pace; above "
        "it the budget is running ahead. A community's allowance for a period is set by the "
        "first claim in it (budgets are fixed for the year).",
    ),
    Indicator(
        code="insurance_fund_kept_in_county",
        name="Insurance fund kept in county",
        name_zh="医保基金县域内支出占比",
        numerator="Bundle payouts for care at facilities inside the county",
        denominator="All bundle payouts for the county's insurees",
        factor=100,
        unit="%",
        levels=(COUNTY,),
        levels_why="County only. Care outside the county is charged to one configured "
        "community's bundle (finance's `out_of_county_community`), not to the insuree's, so a "
        "per-community share would mislead.",
        sources=(ClaimValued,),
        dated_by="`occurred_at`",
    ),
    Indicator(
        code="expert_sessions_delivered",
        name="Expert sessions delivered",
        name_zh="专家下沉坐诊次数",
        numerator="Half-day sessions delivered by visiting experts",
        denominator=None,
        factor=1,
        unit="sessions",
        levels=ALL_LEVELS,
        levels_why="At the member facility that hosted the session, rolled up to its "
        "community and the county.",
        sources=(SessionDelivered,),
        dated_by="the session's `date`",
        decimals=0,
        notes="A session at the expert's own facility is not sent down and does not count.",
    ),
    Indicator(
        code="expert_patients_seen",
        name="Patients seen by visiting experts",
        name_zh="下沉专家接诊人次",
        numerator="Patients seen in delivered expert sessions",
        denominator=None,
        factor=1,
        unit="patients",
        levels=ALL_LEVELS,
        levels_why="At the hosting member facility, rolled up to its community and the county.",
        sources=(SessionDelivered,),
        dated_by="the session's `date`",
        decimals=0,
    ),
    Indicator(
        code="expert_home_visits",
        name="Home visits by visiting experts",
        name_zh="下沉专家家庭访视次数",
        numerator="Home visits made during delivered expert sessions",
        denominator=None,
        factor=1,
        unit="home visits",
        levels=ALL_LEVELS,
        levels_why="At the hosting member facility, rolled up to its community and the county.",
        sources=(SessionDelivered,),
        dated_by="the session's `date`",
        decimals=0,
    ),
    Indicator(
        code="stationed_physicians",
        name="Stationed physicians",
        name_zh="派驻人数",
        numerator="Stationings of lead-hospital physicians at member facilities active on at "
        "least one day of the period",
        denominator=None,
        factor=1,
        unit="physicians",
        levels=ALL_LEVELS,
        levels_why="At the member facility the physician is stationed at, rolled up to its "
        "community and the county.",
        sources=(StationingStarted, StationingEnded),
        dated_by="the stationing's `start_date` to its `end_date` (or `planned_end_date`)",
        decimals=0,
        notes="A stationing counts in every day and month it covers, planned ones ahead of "
        "time; an early or late end moves its last day. A physician moved between members "
        "within a month counts at both.",
    ),
    *SYSTEM_INDICATORS,
    *QUALITY_INDICATORS,
    *HERBAL_INDICATORS,
    *AUDIT_INDICATORS,
)

_BY_CODE = {i.code: i for i in INDICATORS}


def indicator(code: str) -> Indicator:
    """The indicator with ``code``; :class:`UnknownIndicator` if there is none."""
    try:
        return _BY_CODE[code]
    except KeyError:
        raise UnknownIndicator(code) from None
