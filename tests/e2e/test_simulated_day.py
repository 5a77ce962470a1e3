"""A simulated day of the whole county, every process real: the simulator sends visits and
prescriptions onto the ingestion topics and plays the people at the desks over HTTP; then
every cross-domain reaction is checked through the services' own APIs, the books and every
stock card reconcile, and nothing was dead-lettered."""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta
from decimal import Decimal

from libs.platform.auth import Role
from simulator.activity import PrescriptionAct, ReferralAct, VisitAct
from tests.conftest import Suite
from tests.support.kafka import wait_for
from tests.support.simulation import (
    dead_letters,
    ids_in_memos,
    indicator_values,
    journal,
    reconciliation_problems,
    simulate,
    simulated_days,
)

SERVICES = ("staffing", "pharmacy", "finance", "referral", "reporting")


def test_a_simulated_day_causes_every_reaction_and_everything_reconciles(suite: Suite) -> None:
    started = time.monotonic()
    running = suite.start(*SERVICES)
    pharmacy, finance, referral, reporting = (
        running[n] for n in ("pharmacy", "finance", "referral", "reporting")
    )
    day = simulate(running, suite.bootstrap, suite.data_dir, seed=11, scale=0.08,
                   window=timedelta(minutes=20), formulary=80)  # fmt: skip
    result, plan = day.result, day.plan
    assert not result.problems, result.problems[:10]
    assert result.settled
    simulated_s = time.monotonic() - started

    # Prescriptions: dispensed by the pharmacy, and the dispensing booked by finance.
    sent = set(result.prescriptions)
    assert len(sent) >= 50
    dispensed = wait_for(
        lambda: (
            (found := ids_in_memos(journal(finance, "dispense"), "Prescription"))
            and len(found) >= 0.8 * len(sent)
            and found
        ),
        timeout_s=30,
        what="finance to book the dispensing",
    )
    with pharmacy.client(Role.PHARMACY_CENTRE) as centre:
        shortages = centre.get("/shortages", params={"limit": 500}).json()["items"]
    short = {s["prescription_id"] for s in shortages if s.get("prescription_id")}
    assert sent <= dispensed | short, sorted(sent - dispensed - short)[:10]
    assert dispensed <= sent

    # Low stock was replenished: transfers raised by the pharmacy, received, settled.
    received = set(result.transfers_received)
    assert received, result.counts
    with pharmacy.client(Role.PHARMACY_CENTRE) as centre:
        states = {
            t["transfer_id"]: t
            for t in centre.get("/transfers", params={"limit": 500}).json()["items"]
        }
    assert all(states[t]["state"] == "received" for t in received)
    assert any(states[t]["reason"] == "replenishment" for t in received)
    settled = ids_in_memos(journal(finance, "transfer_settlement"), "Transfer")
    assert received <= settled

    # Referrals down were accepted and their medications reserved at the clinic.
    directions = {
        a.key: dict(a.body)["direction"]
        for a in plan.acts
        if isinstance(a, ReferralAct) and a.step == "request"
    }
    down_accepted = [
        rid
        for key, rid in result.referrals.items()
        if directions[key] == "down" and "accept" in result.referral_steps[rid]
    ]
    assert len(down_accepted) >= 2
    with pharmacy.client(Role.PHARMACY_CENTRE) as centre:
        reservations = centre.get("/reservations", params={"limit": 500}).json()["items"]
    reserved_for = Counter(r["referral_id"] for r in reservations)
    assert all(reserved_for[rid] >= 1 for rid in down_accepted), (down_accepted, reserved_for)
    completed = [rid for rid, steps in result.referral_steps.items() if "complete" in steps]
    assert completed  # the green-channel patient was treated and sent back
    assert set(completed) <= ids_in_memos(journal(finance, "referral_fee"), "Referral")
    with referral.client() as desk:
        for rid in completed:
            assert desk.get(f"/referrals/{rid}").json()["state"] == "completed"

    # Expert sessions were delivered and paid to the expert's home facility.
    assert len(result.delivered) >= 2
    paid = ids_in_memos(journal(finance, "session_fee"), "session")
    assert set(result.delivered) <= paid

    # Indicators: every visit, prescription, referral and session counted once.
    first, last = simulated_days(plan)
    values = indicator_values(reporting, first, last)
    in_county = [a for a in plan.acts if isinstance(a, VisitAct) and a.in_county]
    prescriptions = [a for a in plan.acts if isinstance(a, PrescriptionAct)]
    county = day.county.code
    assert values[("primary_care_visit_share", "county", county)][1] == len(in_county)
    primary = sum(1 for v in in_county if day.county.facility(v.facility_id).is_primary)
    assert values[("primary_care_visit_share", "county", county)][0] == primary
    tcm = sum(1 for p in prescriptions if p.category.value != "western")
    assert values[("tcm_prescription_share", "county", county)] == (tcm, len(prescriptions))
    requested = Counter(directions[key] for key in result.referrals)
    assert values[("referrals_up", "county", county)][0] == requested["up"]
    assert values[("referrals_down", "county", county)][0] == requested["down"]
    assert values[("expert_sessions_delivered", "county", county)][0] == len(result.delivered)
    share = values[("primary_care_visit_share", "county", county)]
    assert Decimal("0.55") <= share[0] / share[1] <= Decimal("0.85")  # about 70 %

    # The books balance in every book; every stock card adds up.
    assert reconciliation_problems(pharmacy, finance, day.county) == []
    # And the simulated traffic produced no dead letter anywhere.
    letters = dead_letters(suite.bootstrap)
    assert not letters, [letter.summary() for letter in letters[:5]]
    print(f"simulated day: {simulated_s:.1f}s, whole test {time.monotonic() - started:.1f}s, "
          f"{dict(result.counts)}")  # fmt: skip
