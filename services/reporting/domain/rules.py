"""What each source event contributes to the indicators: pure functions from a payload (and
the organisation facts the handler looked up) to cell changes.

Every rule dates its changes by the event's business time in the county's calendar and
touches only the levels and periods its indicator is defined at.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from libs.events.catalogue.finance import ClaimValued
from libs.events.catalogue.ingestion import (
    OrderPlaced,
    PrescriptionIssued,
    ResultReported,
    VisitRecorded,
)
from libs.events.catalogue.pharmacy import ExpiryScanned, Restocked, ShortageRecorded, StockedOut
from libs.events.catalogue.referral import ReferralRequested, ReferralSlaBreached
from libs.events.catalogue.reporting import OrgUnitLevel, PeriodKind
from libs.events.catalogue.staffing import SessionDelivered
from libs.events.catalogue.values import (
    FacilityTier,
    InsuranceType,
    PrescriptionCategory,
    ReferralDirection,
    TestKind,
)
from libs.events.payload import cents
from libs.platform.clock import CountyClock
from services.reporting.domain.cells import (
    Add,
    CellKey,
    Change,
    Member,
    Open,
    Place,
    Reset,
    Shift,
    Unit,
)
from services.reporting.domain.indicators import Indicator, indicator
from services.reporting.domain.periods import (
    period_of,
    share_of_year,
    span_periods,
)

__all__ = [
    "County",
    "claim_valued",
    "expiry_scanned",
    "order_placed",
    "prescription_issued",
    "referral_requested",
    "result_reported",
    "session_delivered",
    "shortage_recorded",
    "silence_began",
    "silence_moved",
    "silent_minutes",
    "sla_breached",
    "stationing_moved",
    "stock_availability",
    "visit_recorded",
]

ONE, ZERO = Decimal(1), Decimal(0)
TCM = frozenset({PrescriptionCategory.TCM_PATENT, PrescriptionCategory.TCM_HERBAL})

IN_COUNTY_VISITS = indicator("in_county_visit_rate")
PRIMARY_CARE = indicator("primary_care_visit_share")
REFERRALS_UP = indicator("referrals_up")
REFERRALS_DOWN = indicator("referrals_down")
DOWN_UP_RATIO = indicator("referral_down_up_ratio")
SLA_BREACHES = indicator("referral_sla_breaches")
TCM_SHARE = indicator("tcm_prescription_share")
STOCKED_OUT = indicator("stocked_out_items")
SHORTAGES = indicator("shortages_recorded")
NEAR_EXPIRY = indicator("near_expiry_value")
BUDGET_PACE = indicator("insurance_budget_pace")
FUND_IN_COUNTY = indicator("insurance_fund_kept_in_county")
SESSIONS = indicator("expert_sessions_delivered")
PATIENTS_SEEN = indicator("expert_patients_seen")
HOME_VISITS = indicator("expert_home_visits")
STATIONED = indicator("stationed_physicians")
ORDERED = {
    TestKind.LABORATORY: indicator("lab_tests_ordered"),
    TestKind.IMAGING: indicator("imaging_exams_ordered"),
}
REPORTED = {
    TestKind.LABORATORY: indicator("lab_results_reported"),
    TestKind.IMAGING: indicator("imaging_results_reported"),
}
SILENT_EPISODES = indicator("feed_silent_episodes")
SILENT_MINUTES = indicator("feed_silent_minutes")


@dataclass(frozen=True)
class County:
    """The county the service reports on: its unit id and its clock."""

    county_id: str
    clock: CountyClock

    def place(self, member: Member | None = None) -> Place:
        return Place(self.county_id) if member is None else Place.of(member, self.county_id)


def flow(
    ind: Indicator, place: Place, day: date, numerator: Decimal, denominator: Decimal = ZERO
) -> list[Change]:
    """Add to the indicator's cells of ``day`` at every level ``place`` has."""
    if numerator == 0 and denominator == 0:
        return []
    return [
        Add(
            CellKey(ind.code, unit.level, unit.unit_id, kind, period_of(day, kind)),
            numerator,
            denominator,
        )
        for unit in place.units(ind.levels)
        for kind in ind.periods
    ]


def visit_recorded(visit: VisitRecorded, member: Member | None, county: County) -> list[Change]:
    """In-county visit rate (county insurees) and primary-care share (in-county visits).

    ``member`` is the facility as the organisation knows it, for visits inside the county.
    """
    day = county.clock.date_of(visit.occurred_at)
    changes: list[Change] = []
    insuree = visit.insured_in_county and visit.insurance_type is not InsuranceType.SELF_PAY
    if insuree:
        inside = ONE if visit.facility_in_county else ZERO
        changes += flow(IN_COUNTY_VISITS, county.place(), day, inside, ONE)
    if visit.facility_in_county:
        if member is None:
            raise ValueError("a visit inside the county needs its member facility")
        primary = ONE if member.tier is FacilityTier.PRIMARY else ZERO
        changes += flow(PRIMARY_CARE, county.place(member), day, primary, ONE)
    return changes


def prescription_issued(
    prescription: PrescriptionIssued, member: Member, county: County
) -> list[Change]:
    day = county.clock.date_of(prescription.issued_at)
    tcm = ONE if prescription.category in TCM else ZERO
    return flow(TCM_SHARE, county.place(member), day, tcm, ONE)


def referral_requested(referral: ReferralRequested, sender: Member, county: County) -> list[Change]:
    """Counted at the referring facility; the ratio at its community and the county."""
    day = county.clock.date_of(referral.requested_at)
    place = county.place(sender)
    if referral.direction is ReferralDirection.UP:
        return flow(REFERRALS_UP, place, day, ONE) + flow(DOWN_UP_RATIO, place, day, ZERO, ONE)
    return flow(REFERRALS_DOWN, place, day, ONE) + flow(DOWN_UP_RATIO, place, day, ONE, ZERO)


def sla_breached(breach: ReferralSlaBreached, receiver: Member, county: County) -> list[Change]:
    """Counted at the receiving facility, whose step was late."""
    day = county.clock.date_of(breach.breached_at)
    return flow(SLA_BREACHES, county.place(receiver), day, ONE)


def stock_availability(
    crossing: StockedOut | Restocked, member: Member, county: County
) -> list[Change]:
    """One more (stocked out) or one fewer (restocked) stocked-out item at the facility,
    from the day it happened on."""
    day = county.clock.date_of(crossing.occurred_at)
    delta = ONE if isinstance(crossing, StockedOut) else -ONE
    return [
        Shift(STOCKED_OUT.code, unit, day, delta)
        for unit in county.place(member).units(STOCKED_OUT.levels)
    ]


def shortage_recorded(shortage: ShortageRecorded, member: Member, county: County) -> list[Change]:
    day = county.clock.date_of(shortage.recorded_at)
    return flow(SHORTAGES, county.place(member), day, ONE)


def expiry_scanned(scan: ExpiryScanned, member: Member, county: County) -> list[Change]:
    """The facility's near-expiry value becomes the scan's; its community and county follow."""
    facility, *parents = county.place(member).units(NEAR_EXPIRY.levels)
    return [
        Reset(NEAR_EXPIRY.code, facility, tuple(parents), scan.scanned_on, scan.near_expiry_value)
    ]


def claim_valued(claim: ClaimValued, county: County) -> list[Change]:
    """Budget pace at the paying community and the county; the fund kept in the county."""
    day = county.clock.date_of(claim.occurred_at)
    payout = claim.fund_payout
    community = Unit(OrgUnitLevel.COMMUNITY, claim.community_id)
    whole = Unit(OrgUnitLevel.COUNTY, county.county_id)
    changes: list[Change] = []
    for kind in BUDGET_PACE.periods:
        period = period_of(day, kind)
        own = CellKey(BUDGET_PACE.code, community.level, community.unit_id, kind, period)
        top = CellKey(BUDGET_PACE.code, whole.level, whole.unit_id, kind, period)
        allowance = cents(claim.budget_total * share_of_year(period, kind))
        changes.append(Open(own, allowance, parents=(top,)))
        if payout:
            changes += [Add(own, payout), Add(top, payout)]
    inside = payout if claim.facility_in_county else ZERO
    changes += flow(FUND_IN_COUNTY, county.place(), day, inside, payout)
    return changes


def session_delivered(session: SessionDelivered, host: Member, county: County) -> list[Change]:
    """A session sent down to a member; one at the expert's own facility is not."""
    if session.facility_id == session.home_facility_id:
        return []
    place = county.place(host)
    return (
        flow(SESSIONS, place, session.date, ONE)
        + flow(PATIENTS_SEEN, place, session.date, Decimal(session.patients_seen))
        + flow(HOME_VISITS, place, session.date, Decimal(session.home_visits))
    )


def stationing_moved(
    host: Member, first: date, old_last: date | None, new_last: date | None, county: County
) -> list[Change]:
    """A stationing from ``first`` now lasts to ``new_last`` instead of ``old_last`` (None:
    not covered at all): +1 for each period it newly covers, −1 for each it no longer does."""
    changes: list[Change] = []
    for kind in STATIONED.periods:
        before = set(span_periods(first, old_last, kind)) if old_last else set()
        after = set(span_periods(first, new_last, kind)) if new_last else set()
        for periods, delta in ((after - before, ONE), (before - after, -ONE)):
            for period in sorted(periods):
                for unit in county.place(host).units(STATIONED.levels):
                    key = CellKey(STATIONED.code, unit.level, unit.unit_id, kind, period)
                    changes.append(Add(key, delta))
    return changes


def order_placed(order: OrderPlaced, member: Member, county: County) -> list[Change]:
    """A laboratory test or an imaging examination ordered at the facility."""
    day = county.clock.date_of(order.ordered_at)
    return flow(ORDERED[order.test_kind], county.place(member), day, ONE)


def result_reported(result: ResultReported, member: Member, county: County) -> list[Change]:
    """A laboratory or imaging result reported by the facility's system."""
    day = county.clock.date_of(result.reported_at)
    return flow(REPORTED[result.test_kind], county.place(member), day, ONE)


def silence_began(member: Member, silent_since: datetime, county: County) -> list[Change]:
    """One more silent episode at the member, on the day its feed fell silent."""
    day = county.clock.date_of(silent_since)
    return flow(SILENT_EPISODES, county.place(member), day, ONE)


def silence_moved(
    member: Member, old_end: datetime, new_end: datetime, county: County
) -> list[Change]:
    """A silent episode counted up to ``old_end`` now lasts to ``new_end`` (later while it
    goes on, earlier when it resumed before a count that ran ahead): the minutes between
    them, added (or taken away) in each period they fall in."""
    changes: list[Change] = []
    units = county.place(member).units(SILENT_MINUTES.levels)
    for kind in SILENT_MINUTES.periods:
        for period, minutes in sorted(silent_minutes(old_end, new_end, kind, county).items()):
            for unit in units:
                key = CellKey(SILENT_MINUTES.code, unit.level, unit.unit_id, kind, period)
                changes.append(Add(key, Decimal(minutes)))
    return changes


def silent_minutes(
    start: datetime, end: datetime, kind: PeriodKind, county: County
) -> dict[str, int]:
    """Whole minutes from ``start`` to ``end`` in each period of ``kind`` of the county's
    calendar (negative when ``end`` is before ``start``). Both are taken to the minute
    (floored), so minutes counted in steps add up to the minutes counted at once."""
    sign = 1
    if end < start:
        start, end, sign = end, start, -1
    begin, stop = _minute(start), _minute(end)
    day = county.clock.date_of(begin)
    minutes: dict[str, int] = {}
    while begin < stop:
        midnight = county.clock.start_of(day + timedelta(days=1))
        upto = min(stop, midnight)
        period = period_of(day, kind)
        counted = int((upto - begin).total_seconds()) // 60
        minutes[period] = minutes.get(period, 0) + sign * counted
        begin, day = upto, day + timedelta(days=1)
    return {period: n for period, n in minutes.items() if n}


def _minute(instant: datetime) -> datetime:
    """The instant floored to its minute, in UTC (a naive one is taken as UTC)."""
    aware = instant if instant.tzinfo else instant.replace(tzinfo=UTC)
    return aware.astimezone(UTC).replace(second=0, microsecond=0)
