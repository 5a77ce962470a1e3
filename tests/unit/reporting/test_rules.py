"""What each source event contributes: the pure rules, without a database."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from libs.events.catalogue.reporting import OrgUnitLevel, PeriodKind
from libs.events.catalogue.values import FacilityTier, InsuranceType, PrescriptionCategory
from services.reporting.domain import rules
from services.reporting.domain.cells import Add, CellKey, Member, Open, Reset, Shift, Unit
from tests.support.reporting import (
    COUNTY,
    D1,
    claim,
    expiry_scan,
    prescription,
    session_delivered,
    stocked_out,
    visit,
)

T01 = Member("QS-T01", "QS-MC1", FacilityTier.PRIMARY)
H01 = Member("QS-H01", "QS-MC1", FacilityTier.TERTIARY)


def adds(changes: list) -> dict[tuple[str, str, str, str, str], tuple[Decimal, Decimal]]:
    out: dict[tuple[str, str, str, str, str], tuple[Decimal, Decimal]] = {}
    for change in changes:
        assert isinstance(change, Add)
        k = change.key
        out[(k.indicator, k.level.value, k.unit_id, k.period_kind.value, k.period)] = (
            change.numerator,
            change.denominator,
        )
    return out


def test_a_county_insurees_visit_at_a_primary_member() -> None:
    changes = adds(rules.visit_recorded(visit("QS-T01", D1).data, T01, COUNTY))
    assert changes == {
        ("in_county_visit_rate", "county", "QS", "day", "2026-11-02"): (1, 1),
        ("in_county_visit_rate", "county", "QS", "month", "2026-11"): (1, 1),
        ("primary_care_visit_share", "community", "QS-MC1", "day", "2026-11-02"): (1, 1),
        ("primary_care_visit_share", "community", "QS-MC1", "month", "2026-11"): (1, 1),
        ("primary_care_visit_share", "county", "QS", "day", "2026-11-02"): (1, 1),
        ("primary_care_visit_share", "county", "QS", "month", "2026-11"): (1, 1),
    }


def test_who_counts_in_the_in_county_visit_rate() -> None:
    outside = rules.visit_recorded(visit("OUT", D1, in_county=False).data, None, COUNTY)
    assert set(adds(outside).values()) == {(0, 1)}  # only the rate's denominator
    self_pay = visit("QS-H01", D1, insurance=InsuranceType.SELF_PAY).data
    assert {k[0] for k in adds(rules.visit_recorded(self_pay, H01, COUNTY))} == {
        "primary_care_visit_share"
    }
    elsewhere_insured = visit("QS-T01", D1, insured_in_county=False).data
    assert {k[0] for k in adds(rules.visit_recorded(elsewhere_insured, T01, COUNTY))} == {
        "primary_care_visit_share"
    }
    tertiary = adds(rules.visit_recorded(visit("QS-H01", D1).data, H01, COUNTY))
    assert tertiary[("primary_care_visit_share", "county", "QS", "month", "2026-11")] == (0, 1)


def test_tcm_prescriptions_at_every_level() -> None:
    herbal = prescription("QS-T01", PrescriptionCategory.TCM_HERBAL, D1).data
    western = prescription("QS-T01", PrescriptionCategory.WESTERN, D1).data
    assert set(adds(rules.prescription_issued(herbal, T01, COUNTY)).values()) == {(1, 1)}
    assert set(adds(rules.prescription_issued(western, T01, COUNTY)).values()) == {(0, 1)}
    assert {k[1] for k in adds(rules.prescription_issued(herbal, T01, COUNTY))} == {
        "facility",
        "community",
        "county",
    }


def test_a_claim_opens_its_communitys_allowance_for_the_day_and_the_month() -> None:
    changes = rules.claim_valued(claim("QS-MC2", "3000.00", D1).data, COUNTY)
    opens = {c.key.period_kind: c for c in changes if isinstance(c, Open)}
    assert opens[PeriodKind.DAY].denominator == Decimal("10000.00")
    assert opens[PeriodKind.MONTH].denominator == Decimal("300000.00")
    assert opens[PeriodKind.DAY].parents == (
        CellKey("insurance_budget_pace", OrgUnitLevel.COUNTY, "QS", PeriodKind.DAY, "2026-11-02"),
    )
    kept = [c for c in changes if isinstance(c, Add) and c.key.indicator.endswith("in_county")]
    assert {(c.numerator, c.denominator) for c in kept} == {(Decimal("3000.00"),) * 2}


def test_stock_crossings_and_scans_are_level_changes() -> None:
    [facility, community, county] = rules.stock_availability(
        stocked_out("QS-T01", "D", D1).data, T01, COUNTY
    )
    assert isinstance(facility, Shift) and facility.delta == 1 and facility.day == date(2026, 11, 2)
    assert isinstance(community, Shift) and isinstance(county, Shift)
    assert [c.unit for c in (facility, community, county)] == [
        Unit(OrgUnitLevel.FACILITY, "QS-T01"),
        Unit(OrgUnitLevel.COMMUNITY, "QS-MC1"),
        Unit(OrgUnitLevel.COUNTY, "QS"),
    ]
    [reset] = rules.expiry_scanned(
        expiry_scan("QS-T01", date(2026, 11, 2), "12.50").data, T01, COUNTY
    )
    assert isinstance(reset, Reset)
    assert reset.value == Decimal("12.50")
    assert reset.parents == (
        Unit(OrgUnitLevel.COMMUNITY, "QS-MC1"),
        Unit(OrgUnitLevel.COUNTY, "QS"),
    )


def test_a_session_at_the_experts_own_facility_is_not_sent_down() -> None:
    assert (
        rules.session_delivered(session_delivered("QS-H01", date(2026, 11, 2), 9).data, H01, COUNTY)
        == []
    )
    sent = adds(
        rules.session_delivered(session_delivered("QS-T01", date(2026, 11, 2), 9).data, T01, COUNTY)
    )
    assert sent[("expert_patients_seen", "facility", "QS-T01", "day", "2026-11-02")] == (9, 0)
    assert sent[("expert_sessions_delivered", "county", "QS", "month", "2026-11")] == (1, 0)


def _net(changes: list) -> dict[CellKey, int]:
    net: Counter[CellKey] = Counter()
    for change in changes:
        net[change.key] += int(change.numerator)
    return {key: count for key, count in net.items() if count}


START = date(2026, 11, 20)
lasts = st.one_of(
    st.none(), st.integers(min_value=-3, max_value=120).map(lambda n: START + timedelta(days=n))
)


@given(a=lasts, b=lasts)
def test_moving_a_stationings_end_twice_is_moving_it_once(a: date | None, b: date | None) -> None:
    twice = rules.stationing_moved(T01, START, None, a, COUNTY) + rules.stationing_moved(
        T01, START, a, b, COUNTY
    )
    once = rules.stationing_moved(T01, START, None, b, COUNTY)
    assert _net(twice) == _net(once)
    assert all(v == 1 for v in _net(once).values())  # each covered period counts once
