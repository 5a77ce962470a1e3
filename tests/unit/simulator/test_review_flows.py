"""What the simulator plays for the central review and result recognition: .v2 prescriptions
(the facility's doctor, the patient's age band and pregnancy), antibiotics at the knobs'
share, the review desk's reject shares, tests and repeat orders — and that a member system's
FHIR bundle says the same through the gateway's translation."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest

from libs.events.catalogue.ingestion import (
    OrderPlaced,
    PrescriptionIssuedV2,
    PrescriptionLine,
    ResultReported,
)
from libs.events.catalogue.values import AgeBand, FacilityType, PrescriptionCategory
from libs.events.payload import Payload
from services.gateway.domain.fhir_bundle import translate_bundle
from services.gateway.domain.fhir_profile import FhirProfile
from services.gateway.domain.messages import NATIONAL_ID_FIELD
from services.gateway.domain.preparation import published_type
from simulator.__main__ import knobs_of
from simulator.activity import (
    Knobs,
    OrderAct,
    PharmacyRound,
    Plan,
    PrescriptionAct,
    ResultAct,
    plan_period,
)
from simulator.clock import SimClock
from simulator.county import load_county
from simulator.member_messages import Pending, fhir_batch, message_id_of
from simulator.review_desk import ReviewDesk
from simulator.run_result import RunResult
from tests.unit.simulator.test_review_desk import QueueApi, held

END = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
COUNTY = load_county()


def plan(knobs: Knobs | None = None, seed: int = 5) -> Plan:
    clock = SimClock.ending(END, days=1)
    return plan_period(COUNTY, clock, seed=seed, scale=0.6, knobs=knobs, run_id="t")


@pytest.fixture(scope="module")
def day() -> Plan:
    return plan()


def of(planned: Any, kind: type) -> list[Any]:
    return [a for a in planned.acts if isinstance(a, kind)]


def test_a_prescription_names_a_doctor_of_its_facility_and_the_patients_age_band(day) -> None:
    staff = {s.staff_id: s for s in COUNTY.staff}
    for rx in of(day, PrescriptionAct):
        facility = COUNTY.facility(rx.facility_id)
        if facility.facility_type is FacilityType.VILLAGE_CLINIC:
            # the registry holds no village doctor: the .v1 an older system sends
            assert (rx.prescriber_id, rx.age_band, rx.pregnant) == (None, None, None)
            continue
        assert staff[rx.prescriber_id].home_facility_id == rx.facility_id
        assert rx.age_band is rx.patient.age_band_on(day.clock.real(rx.at_s).date())
        assert rx.pregnant is rx.patient.pregnant
        assert rx.pregnant is None or rx.patient.female
    bands = Counter(rx.age_band for rx in of(day, PrescriptionAct) if rx.age_band)
    assert set(bands) == set(AgeBand)
    assert bands[AgeBand.ADULT] > bands[AgeBand.ELDERLY] > bands[AgeBand.CHILD]
    pregnant = Counter(rx.pregnant for rx in of(day, PrescriptionAct))
    assert pregnant[True] and pregnant[False] and pregnant[None] > 10 * pregnant[False]


def antibiotics(rx: PrescriptionAct) -> list[str]:
    return [code for code, _, _ in rx.lines if code in COUNTY.antibiotic_grades]


def test_antibiotics_come_at_the_knobs_share_with_restricted_ones_at_township_centres(
    day,
) -> None:
    western = [rx for rx in of(day, PrescriptionAct) if rx.category is PrescriptionCategory.WESTERN]
    with_one = [rx for rx in western if antibiotics(rx)]
    assert 0.13 <= len(with_one) / len(western) <= 0.23
    assert all(len(antibiotics(rx)) == 1 for rx in with_one)
    township = {
        code
        for rx in with_one
        if COUNTY.facility(rx.facility_id).facility_type is FacilityType.TOWNSHIP_CENTRE
        for code in antibiotics(rx)
    }
    assert "restricted" in {COUNTY.antibiotic_grades[code] for code in township}
    none = plan(Knobs(antibiotic_share=0.0))
    assert not any(antibiotics(rx) for rx in of(none, PrescriptionAct))


def test_tests_are_reported_where_ordered_and_repeated_elsewhere_after_a_round(day) -> None:
    orders = {o.order_id: o for o in of(day, OrderAct)}
    results = of(day, ResultAct)
    assert results and len(results) == sum(1 for o in orders.values() if not o.repeat)
    for result in results:
        assert orders[result.order.order_id] == result.order
        assert result.order.at_s < result.performed_at_s < result.at_s < day.clock.seconds
    rounds = sorted(r.at_s for r in of(day, PharmacyRound) if not r.final)
    repeats = [o for o in orders.values() if o.repeat]
    assert repeats
    by_order = {r.order.order_id: r for r in results}
    for repeat in repeats:
        first = by_order[repeat.order_id.removesuffix("R")]
        assert repeat.facility_id != first.order.facility_id
        assert (repeat.patient, repeat.test_code) == (first.order.patient, first.order.test_code)
        assert any(first.at_s < r < repeat.at_s for r in rounds)  # indexed before it comes
        assert repeat.at_s < day.clock.seconds
    firsts = [(o.patient.national_id, o.test_code) for o in orders.values() if not o.repeat]
    assert len(firsts) == len(set(firsts))
    assert not of(plan(Knobs(test_share=0.0)), OrderAct)


def test_the_same_seed_gives_the_same_tests() -> None:
    assert of(plan(seed=8), OrderAct) == of(plan(seed=8), OrderAct)
    assert of(plan(seed=8), ResultAct) == of(plan(seed=8), ResultAct)


def test_the_review_desk_rejects_its_shares_whatever_order_it_reads_the_queue_in() -> None:
    queue = [held(f"RX-{n}", "antibiotic_facility_grade") for n in range(200)]
    queue += [held(f"RX-{n}", "dose_limit") for n in range(200, 400)]
    knobs = Knobs(antibiotic_hold_reject_share=0.5, other_hold_reject_share=0.1)

    def rejected(items: list[dict[str, Any]]) -> set[str]:
        api = QueueApi(items)
        ReviewDesk(api, RunResult(), knobs, seed="7:t").play()  # type: ignore[arg-type]
        return {path.split("/")[3] for path, _ in api.decisions if path.endswith("/reject")}

    once = rejected(queue)
    assert once == rejected(list(reversed(queue)))
    graded = sum(1 for rx in once if int(rx.split("-")[1]) < 200)
    assert 70 <= graded <= 130 and 5 <= len(once) - graded <= 35


def bundle_fields(payload: Payload, national_id: str) -> dict[str, Any]:
    """What the gateway reads of ``payload`` sent in a member's FHIR bundle."""
    document, _ = fhir_batch("QS-T01", [Pending(message_id_of(payload), "t", payload, national_id)])
    translation = translate_bundle(document, FhirProfile())
    (unit,) = translation.units
    assert unit.message is not None, unit.problems
    return {k: v for k, v in unit.message.fields.items() if k != NATIONAL_ID_FIELD}


def test_a_v2_prescription_says_the_same_through_a_fhir_bundle(day) -> None:
    pregnant = next(
        rx
        for rx in of(day, PrescriptionAct)
        if rx.pregnant is not None and rx.prescriber_id is not None
    )
    payload = PrescriptionIssuedV2(
        prescription_id=pregnant.prescription_id, facility_id="QS-T01", facility_tier="primary",
        patient_pseudonym="a" * 64, prescriber_id=pregnant.prescriber_id, category="western",
        lines=[PrescriptionLine(line_no=1, drug_code="QSY-W003", quantity=1)],
        total_amount="9.60", issued_at=day.clock.real(pregnant.at_s),
        patient_age_band=pregnant.age_band, pregnant=pregnant.pregnant,
    )  # fmt: skip
    fields = bundle_fields(payload, pregnant.patient.national_id)
    assert published_type("ingestion.prescription.issued.v1", fields).endswith(".v2")
    assert fields["patient_age_band"] == pregnant.age_band.value
    assert fields["pregnant"] is pregnant.pregnant


def test_orders_and_results_go_as_service_requests_and_reports(day) -> None:
    result = of(day, ResultAct)[0]
    order = result.order
    common = {
        "facility_id": "QS-T01", "facility_tier": "primary", "patient_pseudonym": "a" * 64,
        "test_kind": order.test_kind, "test_code": order.test_code,
    }  # fmt: skip
    placed = OrderPlaced(**common, order_id=order.order_id, ordered_at=day.clock.real(order.at_s))
    reported = ResultReported(
        **common, result_id=result.result_id, order_id=order.order_id,
        observation_count=result.observation_count, reported_at=day.clock.real(result.at_s),
    )  # fmt: skip
    nid = order.patient.national_id
    assert bundle_fields(placed, nid)["order_id"] == order.order_id
    fields = bundle_fields(reported, nid)
    assert (fields["result_id"], fields["order_id"]) == (result.result_id, order.order_id)


def test_knobs_are_set_by_name_on_the_command_line() -> None:
    knobs = knobs_of(["antibiotic_share=0.3", "age_band_shares=0,0,0,1,0", "rotations=5"])
    assert knobs.antibiotic_share == 0.3 and knobs.rotations == 5
    assert knobs.age_band_shares == (0.0, 0.0, 0.0, 1.0, 0.0)
    with pytest.raises(ValueError, match="antibiotics_share: not a knob"):
        knobs_of(["antibiotics_share=0.3"])
    with pytest.raises(ValueError, match="'lots' is not a float"):
        knobs_of(["test_share=lots"])
