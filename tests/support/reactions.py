"""Every cross-domain reaction a simulated county day must cause, checked through the
services' own APIs while the suite still runs: prescriptions dispensed (or short, or refused
by the review centre before dispensing, never both) and booked; low stock replenished,
received and settled; referrals down accepted with their medications reserved, the green
channel treated and paid; expert sessions delivered and paid; every act counted once by
reporting; the books and every stock card reconciled; nothing dead-lettered.

The fault module's undisturbed day (tests/e2e/test_faults.py) is checked with it: one
simulated day serves as the reference the faulty runs must equal and as the proof that
everything reacts (two such days cost CI minutes it does not have)."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import TYPE_CHECKING

from libs.events.codec import decode
from libs.platform.auth import Role
from simulator.activity import PrescriptionAct, ReferralAct, VisitAct
from tests.support.kafka import read_all, wait_for
from tests.support.simulation import (
    Simulated,
    all_pages,
    dead_letters,
    ids_in_memos,
    indicator_values,
    journal,
    reconciliation_problems,
    simulated_days,
)

if TYPE_CHECKING:
    from tests.conftest import Suite

__all__ = ["check_every_reaction"]


def check_every_reaction(suite: Suite, day: Simulated) -> None:
    """Raises AssertionError naming the first reaction that did not happen."""
    result = day.result
    assert not result.problems, result.problems[:10]
    assert result.settled
    _prescriptions(suite, day)
    _replenishment(suite, day)
    _shared_pharmacy(suite, day)
    _referrals(suite, day)
    _sessions(suite, day)
    _indicators(suite, day)
    running = suite.started
    assert reconciliation_problems(running["pharmacy"], running["finance"], day.county) == []
    letters = dead_letters(suite.bootstrap)
    assert not letters, [letter.summary() for letter in letters[:5]]


def _prescriptions(suite: Suite, day: Simulated) -> None:
    """Dispensed by the pharmacy and booked by finance, short, or refused by the review
    centre before dispensing (when quality runs), which is then never dispensed."""
    pharmacy, finance = suite.started["pharmacy"], suite.started["finance"]
    sent = set(day.result.prescriptions)
    assert len(sent) >= 50
    refused: set[str] = set()
    shared: dict[str, str] = {}
    if "quality" in suite.started:
        with suite.started["quality"].client(Role.PHARMACY_CENTRE) as centre:
            reviews = all_pages(centre, "/reviews", state="rejected")
            assert not all_pages(centre, "/reviews", state="held"), "holds left undecided"
        # refused before dispensing: never dispensed; where the county reviews after
        # dispensing (the hospitals) a refusal comes once the patient has the drugs
        refused = {r["prescription_id"] for r in reviews if r["before_dispensing"]}
        with suite.started["quality"].client(Role.PHARMACY_CENTRE) as centre:
            orders = all_pages(centre, "/herbal-orders")
        # the shared TCM pharmacy dispenses a clinic's herbal prescription under its order id
        shared = {o["order_id"]: o["prescription_id"] for o in orders}

    def _as_sent(ids: set[str]) -> set[str]:
        return {shared.get(i, i) for i in ids}

    dispensed = wait_for(
        lambda: (
            (found := _as_sent(ids_in_memos(journal(finance, "dispense"), "Prescription")))
            and len(found) >= 0.8 * len(sent - refused)
            and found
        ),
        timeout_s=30,
        what="finance to book the dispensing",
    )
    with pharmacy.client(Role.PHARMACY_CENTRE) as centre:
        shortages = all_pages(centre, "/shortages", open="false")  # restocked ones too
    short = {
        shared.get(s["prescription_id"], s["prescription_id"])
        for s in shortages
        if s.get("prescription_id")
    }
    missing = sorted(sent - dispensed - short - refused)[:10]
    assert not missing, _whereabouts(suite, missing)
    assert dispensed <= sent
    assert not dispensed & refused, sorted(dispensed & refused)[:10]


def _whereabouts(suite: Suite, prescription_ids: list[str]) -> dict[str, list[str]]:
    """What became of each prescription: the events naming it on the prescription topics."""
    found: dict[str, list[str]] = {rx: [] for rx in prescription_ids}
    topics = ["ingestion.prescription", "pharmacy.prescription", "quality.prescription"]
    for topic in [*topics, "finance.journal_entry", "pharmacy.stock"]:
        for record in read_all(suite.bootstrap, topic):
            event = decode(record.value) if record.value else None
            if event is None:
                continue
            data = event.data.model_dump(mode="json")
            text = str(data)
            for rx in found:
                if rx in text:
                    found[rx].append(f"{event.type} at {event.time:%H:%M:%S.%f}: {text[:600]}")
    return found


def _shared_pharmacy(suite: Suite, day: Simulated) -> None:
    """Each herbal prescription sent to the shared TCM pharmacy became one order (unless the
    review refused it), and every delivered order was settled by finance once."""
    if "quality" not in suite.started:
        return
    sent = {
        a.prescription_id
        for a in day.plan.acts
        if isinstance(a, PrescriptionAct) and a.shared_pharmacy_doses
    }
    with suite.started["quality"].client(Role.PHARMACY_CENTRE) as centre:
        orders = all_pages(centre, "/herbal-orders")
        refused = {r["prescription_id"] for r in all_pages(centre, "/reviews", state="rejected")}
    ordered = Counter(o["prescription_id"] for o in orders)
    assert all(ordered[rx] == 1 for rx in sent - refused), (sent, ordered)
    assert set(ordered) <= sent
    fees = journal(suite.started["finance"], "shared_pharmacy_fee")
    delivered = {o["order_id"] for o in orders if o["state"] == "delivered"}
    assert ids_in_memos(fees, "order") == delivered, (fees, delivered)
    assert len(fees) == len(delivered)  # once each


def _replenishment(suite: Suite, day: Simulated) -> None:
    """Low stock was replenished: transfers raised by the pharmacy, received, settled."""
    received = set(day.result.transfers_received)
    assert received, day.result.counts
    with suite.started["pharmacy"].client(Role.PHARMACY_CENTRE) as centre:
        states = {t["transfer_id"]: t for t in all_pages(centre, "/transfers")}
    assert all(states[t]["state"] == "received" for t in received)
    assert any(states[t]["reason"] == "replenishment" for t in received)
    settled = ids_in_memos(journal(suite.started["finance"], "transfer_settlement"), "Transfer")
    assert received <= settled


def _directions(day: Simulated) -> dict[str, str]:
    return {
        a.key: str(dict(a.body)["direction"])
        for a in day.plan.acts
        if isinstance(a, ReferralAct) and a.step == "request"
    }


def _referrals(suite: Suite, day: Simulated) -> None:
    """Referrals down were accepted and their medications reserved at the clinic; the
    green-channel patient was treated, sent back and paid."""
    result, directions = day.result, _directions(day)
    down_accepted = [
        rid
        for key, rid in result.referrals.items()
        if directions[key] == "down" and "accept" in result.referral_steps[rid]
    ]
    assert len(down_accepted) >= 2
    with suite.started["pharmacy"].client(Role.PHARMACY_CENTRE) as centre:
        reservations = all_pages(centre, "/reservations")
    reserved_for = Counter(r["referral_id"] for r in reservations)
    assert all(reserved_for[rid] >= 1 for rid in down_accepted), (down_accepted, reserved_for)
    completed = [rid for rid, steps in result.referral_steps.items() if "complete" in steps]
    assert completed
    assert set(completed) <= ids_in_memos(
        journal(suite.started["finance"], "referral_fee"), "Referral"
    )
    with suite.started["referral"].client() as desk:
        for rid in completed:
            assert desk.get(f"/referrals/{rid}").json()["state"] == "completed"


def _sessions(suite: Suite, day: Simulated) -> None:
    """Expert sessions were delivered and paid to the expert's home facility."""
    assert len(day.result.delivered) >= 2
    paid = ids_in_memos(journal(suite.started["finance"], "session_fee"), "session")
    assert set(day.result.delivered) <= paid


def _indicators(suite: Suite, day: Simulated) -> None:
    """Every visit, prescription, referral and session counted once."""
    plan, county = day.plan, day.county
    values = indicator_values(suite.started["reporting"], *simulated_days(plan))
    in_county = [a for a in plan.acts if isinstance(a, VisitAct) and a.in_county]
    prescriptions = [a for a in plan.acts if isinstance(a, PrescriptionAct)]
    code = county.code
    share = values[("primary_care_visit_share", "county", code)]
    assert share[1] == len(in_county)
    assert share[0] == sum(1 for v in in_county if county.facility(v.facility_id).is_primary)
    assert Decimal("0.55") <= share[0] / share[1] <= Decimal("0.85")  # about 70 %
    tcm = sum(1 for p in prescriptions if p.category.value != "western")
    assert values[("tcm_prescription_share", "county", code)] == (tcm, len(prescriptions))
    requested = Counter(_directions(day)[key] for key in day.result.referrals)
    assert values[("referrals_up", "county", code)][0] == requested["up"]
    assert values[("referrals_down", "county", code)][0] == requested["down"]
    delivered = len(day.result.delivered)
    assert values[("expert_sessions_delivered", "county", code)][0] == delivered
