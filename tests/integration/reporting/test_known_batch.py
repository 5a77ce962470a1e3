"""The known batch of visits, prescriptions and referrals gives exactly the values worked
out by hand; replaying it changes nothing; the changelog carries each touched cell once per
batch with its full value. On SQLite and PostgreSQL, through the real handlers.

The arithmetic (D1 = 2 November, D2 = 3 November, county time):

- in-county visit rate — county insurees' visits: D1 T01, T01, H01, T05, outside (H02 is
  self-pay) → 4 of 5 inside = 80.00 %; D2 outside (C04's patient is another county's) →
  0 of 1; November 4 of 6 = 66.67 %;
- primary-care share — in-county visits: MC1 T01, T01 (primary), H01 (tertiary) → 2 of 3;
  MC2 D1 T05 (primary), H02 (secondary) → 1 of 2, D2 C04 → 1 of 1, month 2 of 3; county
  D1 3 of 5 = 60.00 %, month 4 of 6;
- TCM share — T01 herbal, western, patent → 2 of 3; H01 western → 0 of 1; T05 patent (D1),
  western (D2) → 1 of 2; MC1 2 of 4, county D1 3 of 5, month 3 of 6;
- referrals — up from T01, T02 (D1) and T05 (D2); down from H01 ×3 and H02 (D1): MC1 down
  3 ÷ up 2 = 1.50, MC2 1 ÷ 1, county D1 4 ÷ 2, D2 0 ÷ 1, month 4 ÷ 3 = 1.33;
- SLA breaches at the receiving facility: H01 on D1, H02 on D2.
"""

from __future__ import annotations

from decimal import Decimal

from libs.events.catalogue.reporting import OrgUnitLevel, PeriodKind
from services.reporting.domain.indicators import indicator
from services.reporting.service_layer.queries import Readable, current_values
from tests.integration.reporting.conftest import cells
from tests.support.harness import HandlerHarness
from tests.support.reporting import known_batch

#: ``(indicator, level, unit, period kind, period) → value`` for :func:`known_batch`,
#: worked out by hand (the arithmetic is in this module's docstring).
KNOWN_VALUES: dict[tuple[str, str, str, str, str], str | None] = {
    # in-county visit rate: D1 4 of 5 insurees' visits inside; D2 0 of 1; month 4 of 6
    ("in_county_visit_rate", "county", "QS", "day", "2026-11-02"): "80.00",
    ("in_county_visit_rate", "county", "QS", "day", "2026-11-03"): "0.00",
    ("in_county_visit_rate", "county", "QS", "month", "2026-11"): "66.67",
    # primary-care share: MC1 2 of 3 (T01 ×2, H01), MC2 D1 1 of 2 (T05, H02), D2 1 of 1
    ("primary_care_visit_share", "community", "QS-MC1", "month", "2026-11"): "66.67",
    ("primary_care_visit_share", "community", "QS-MC2", "day", "2026-11-02"): "50.00",
    ("primary_care_visit_share", "community", "QS-MC2", "day", "2026-11-03"): "100.00",
    ("primary_care_visit_share", "community", "QS-MC2", "month", "2026-11"): "66.67",
    ("primary_care_visit_share", "county", "QS", "day", "2026-11-02"): "60.00",
    ("primary_care_visit_share", "county", "QS", "month", "2026-11"): "66.67",
    # TCM share: T01 2 of 3, H01 0 of 1, T05 1 of 2 over the month; county 3 of 6
    ("tcm_prescription_share", "facility", "QS-T01", "day", "2026-11-02"): "66.67",
    ("tcm_prescription_share", "facility", "QS-H01", "month", "2026-11"): "0.00",
    ("tcm_prescription_share", "facility", "QS-T05", "day", "2026-11-03"): "0.00",
    ("tcm_prescription_share", "facility", "QS-T05", "month", "2026-11"): "50.00",
    ("tcm_prescription_share", "community", "QS-MC1", "month", "2026-11"): "50.00",
    ("tcm_prescription_share", "county", "QS", "day", "2026-11-02"): "60.00",
    ("tcm_prescription_share", "county", "QS", "month", "2026-11"): "50.00",
    # referrals: up T01, T02 (D1), T05 (D2); down H01 ×3, H02 ×1 (D1)
    ("referrals_up", "facility", "QS-T01", "month", "2026-11"): "1",
    ("referrals_up", "community", "QS-MC1", "month", "2026-11"): "2",
    ("referrals_up", "county", "QS", "day", "2026-11-03"): "1",
    ("referrals_up", "county", "QS", "month", "2026-11"): "3",
    ("referrals_down", "facility", "QS-H01", "month", "2026-11"): "3",
    ("referrals_down", "county", "QS", "month", "2026-11"): "4",
    ("referral_down_up_ratio", "community", "QS-MC1", "month", "2026-11"): "1.50",
    ("referral_down_up_ratio", "community", "QS-MC2", "month", "2026-11"): "1.00",
    ("referral_down_up_ratio", "county", "QS", "day", "2026-11-02"): "2.00",
    ("referral_down_up_ratio", "county", "QS", "day", "2026-11-03"): "0.00",
    ("referral_down_up_ratio", "county", "QS", "month", "2026-11"): "1.33",
    # SLA breaches at the receiving facility: H01 (D1), H02 (D2)
    ("referral_sla_breaches", "facility", "QS-H01", "day", "2026-11-02"): "1",
    ("referral_sla_breaches", "community", "QS-MC2", "month", "2026-11"): "1",
    ("referral_sla_breaches", "county", "QS", "month", "2026-11"): "2",
}


def value_of(
    harness: HandlerHarness, code: str, level: str, unit: str, kind: str, period: str
) -> str | None:
    """An indicator's value for one unit and period, as the admin API reads it."""
    ind = indicator(code)
    with harness.database.sessions() as session:
        found = current_values(
            session,
            ind,
            PeriodKind(kind),
            period,
            levels=[OrgUnitLevel(level)],
            readable=Readable(None),
            unit_id=unit,
        )
    assert len(found) <= 1
    return None if not found or found[0].value is None else str(found[0].value)


def assert_known_values(harness: HandlerHarness) -> None:
    actual = {key: value_of(harness, *key) for key in KNOWN_VALUES}
    assert actual == KNOWN_VALUES


def test_the_known_batch_gives_the_hand_computed_values_and_a_replay_changes_nothing(
    reporting: HandlerHarness,
) -> None:
    batch = known_batch()
    result = reporting.apply(*batch)
    assert len(result.applied) == len(batch) and not result.dead_lettered
    assert_known_values(reporting)
    before = cells(reporting)
    published = reporting.published("reporting.indicator.updated.v1")

    replay = reporting.apply(*batch)
    assert len(replay.duplicates) == len(batch) and not replay.applied
    assert cells(reporting) == before
    assert_known_values(reporting)
    assert reporting.published("reporting.indicator.updated.v1") == published

    # One changelog record per touched cell, carrying the cell's full value.
    by_cell = {e.subject: e.data for e in published}
    assert len(by_cell) == len(published) == len(before)
    for key, (numerator, denominator, version) in before.items():
        data = by_cell[":".join(key)]
        assert (str(data.numerator), str(data.denominator), data.version) == (
            numerator,
            denominator,
            version,
        )
        assert version == 1
    assert by_cell["referrals_down:county:QS:month:2026-11"].numerator == Decimal("4.00")


def test_the_same_events_in_several_batches_give_the_same_values(
    reporting: HandlerHarness,
) -> None:
    batch = known_batch()
    for start in range(0, len(batch), 4):
        reporting.apply(*batch[start : start + 4])
    assert_known_values(reporting)
    # The latest changelog record of each cell is the cell.
    latest: dict[str, tuple[str, str, int]] = {}
    for e in reporting.published("reporting.indicator.updated.v1"):
        latest[e.subject] = (str(e.data.numerator), str(e.data.denominator), e.data.version)
    assert latest == {":".join(k): v for k, v in cells(reporting).items()}
    assert latest["tcm_prescription_share:county:QS:month:2026-11"] == ("3.00", "6.00", 2)
