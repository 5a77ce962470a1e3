"""Plays a plan against the running suite: the set-up the day starts from, then every act
in time order, as fast as the suite takes them (or paced). All I/O goes through
``simulator.drivers``; the set-up (``simulator.opening``), the referral desks
(``simulator.referral_desk``) and the pharmacist's rounds (``simulator.pharmacy_rounds``)
each have a file of their own, and the feed's events and attendance are played here. The
feed (``simulator.gateway_feed``) sends the gateway's member facilities through the gateway
(with the patient's resident id) and every other facility onto Kafka (with its pseudonym)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any

from libs.events.catalogue.ingestion import (
    OrderPlaced,
    PrescriptionIssued,
    PrescriptionIssuedV2,
    PrescriptionLine,
    ResultReported,
    SharedPharmacyRequest,
    VisitRecorded,
)
from libs.platform.auth import Role
from simulator.activity import (
    OrderAct,
    PharmacyRound,
    Plan,
    PrescriptionAct,
    ReferralAct,
    ResultAct,
    SessionAct,
    VisitAct,
)
from simulator.county import County
from simulator.drivers import Api, ApiError, Endpoints, Settler, SuiteProbe, Tokens
from simulator.gateway_feed import FeedRouter, open_feed
from simulator.opening import Opening
from simulator.pharmacy_rounds import PharmacyRounds
from simulator.referral_desk import ReferralDesk
from simulator.review_desk import ReviewDesk
from simulator.run_result import RunResult
from simulator.shared_pharmacy_desk import SharedPharmacyDesk

__all__ = ["RunResult", "Simulation"]

#: The states a session can be in once a step was applied (the simulator plays each one's
#: steps in order, so a later state means the step was done).
SESSION_AFTER = {
    "check_in": frozenset({"checked_in", "delivered"}),
    "check_out": frozenset({"delivered"}),
}


class Simulation:
    """One run of a plan against one suite."""

    def __init__(
        self,
        county: County,
        plan: Plan,
        endpoints: Endpoints,
        *,
        pace: float = 0.0,
        say: Callable[[str], None] = print,
        settler: Settler | None = None,
        on_play: Callable[[], None] | None = None,
    ) -> None:
        """``settler`` replaces the metrics-based :class:`SuiteProbe` (which counts in the
        services' memory, so a restarted service confuses it); ``on_play`` is called once
        the set-up is done, as the period begins."""
        self.county = county
        self.plan = plan
        self.endpoints = endpoints
        self.pace = pace
        self.say = say
        self.tokens = Tokens(endpoints)
        self.apis = {name: Api(url, self.tokens) for name, url in endpoints.urls.items()}
        self.result = RunResult()
        self._settler = settler
        self._on_play = on_play
        self.referral_desk = ReferralDesk(self.apis["referral"], endpoints, self.result)
        self.pharmacy_rounds = PharmacyRounds(self.apis["pharmacy"], self.result)
        self.review_desk = ReviewDesk(
            self.apis.get("quality"), self.result, plan.knobs, seed=f"{plan.seed}:{plan.run_id}"
        )
        self.shared_pharmacy_desk = SharedPharmacyDesk(
            self.apis.get("quality"), self.result, seed=f"{plan.seed}:{plan.run_id}"
        )

    # --- the whole run ----------------------------------------------------------------

    def run(self, *, ready_timeout_s: float = 180.0) -> RunResult:
        self.result.started = datetime.now(UTC)
        self.wait_ready(ready_timeout_s)
        self.setup()
        sink = open_feed(self.endpoints, self.result, self.say)
        probe: Settler = self._settler or SuiteProbe(self.apis)
        probe.start()
        if self._on_play is not None:
            self._on_play()
        try:
            self.play(sink, probe)
        finally:
            sink.close()
            self.result.faults.update(sink.faults)
            for name, api in self.apis.items():
                self.result.faults.update({f"{name}:{k}": n for k, n in api.faults.items()})
                api.close()
        self.result.finished = datetime.now(UTC)
        return self.result

    def wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while not all(api.ready() for api in self.apis.values()):
            if time.monotonic() > deadline:
                raise TimeoutError("the suite's services are not ready")
            time.sleep(1)
        pharmacy = self.apis["pharmacy"]
        last = self.county.facilities[-1].facility_id
        seeded = self.county.staff[-1].staff_id
        while True:  # the pharmacy's copies: the organisation, the seed formulary, and with a
            # review centre its policy (else the first prescriptions would skip the review);
            # staffing's seed staff, loaded once the organisation reached it
            try:
                pharmacy.get(f"/directory/facilities/{last}")
                self.apis["staffing"].get(f"/staff/{seeded}", role=Role.HR)
                stocked = pharmacy.get("/formulary/drugs", params={"limit": 1})["total"] > 0
                if stocked and ("quality" not in self.apis or pharmacy.get("/review-policy")):
                    return
            except ApiError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError("the pharmacy does not know the county yet")
            time.sleep(0.5)

    # --- set-up ------------------------------------------------------------------------

    def setup(self) -> None:
        Opening(self.county, self.plan, self.apis, self.result, self.say).run()

    # --- the period ---------------------------------------------------------------------

    def play(self, sink: FeedRouter, probe: Settler) -> None:
        began = time.monotonic()
        for act in self.plan.acts:
            if self.pace > 0:
                due = began + act.at_s / self.pace
                if (wait := due - time.monotonic()) > 0:
                    time.sleep(wait)
            at = self.plan.clock.real(act.at_s)
            if isinstance(act, VisitAct):
                self._visit(sink, act, at)
            elif isinstance(act, PrescriptionAct):
                self._prescription(sink, act, at)
            elif isinstance(act, OrderAct | ResultAct):
                self._test(sink, act, at)
            elif isinstance(act, ReferralAct):
                self.referral_desk.play(act, at)
            elif isinstance(act, SessionAct):
                self._attendance(act)
            elif isinstance(act, PharmacyRound):
                sink.flush()
                self.result.settled &= probe.settle(sink.sent, say=self.say)
                self.review_desk.play()
                self.shared_pharmacy_desk.play()
                self.pharmacy_rounds.play(final=act.final)
                if act.final:
                    self.result.settled &= probe.settle(sink.sent, say=self.say)
        self.result.counts.update({f"sent:{t}": n for t, n in sink.sent.items()})

    def _visit(self, sink: FeedRouter, act: VisitAct, at: datetime) -> None:
        sink.send(
            VisitRecorded(
                visit_id=act.visit_id,
                facility_id=act.facility_id,
                facility_tier=act.tier,
                facility_in_county=act.in_county,
                patient_pseudonym=self.endpoints.pseudonym(act.patient.national_id),
                insurance_type=act.insurance,
                insured_in_county=act.insured_in_county,
                visit_type=act.visit_type,
                department_id=act.department_id,
                diagnosis_codes=[act.diagnosis],
                total_amount=act.total,
                eligible_amount=act.eligible,
                occurred_at=at,
            ),
            at=at,
            facility_id=act.facility_id,
            national_id=act.patient.national_id,
        )
        self.result.counts["visits"] += 1

    def _prescription(self, sink: FeedRouter, act: PrescriptionAct, at: datetime) -> None:
        fields: dict[str, Any] = {
            "prescription_id": act.prescription_id,
            "visit_id": act.visit_id,
            "facility_id": act.facility_id,
            "facility_tier": act.tier,
            "patient_pseudonym": self.endpoints.pseudonym(act.patient.national_id),
            "department_id": act.department_id,
            "category": act.category,
            "lines": [
                PrescriptionLine(line_no=i, drug_code=code, quantity=packs, unit_price=price)
                for i, (code, packs, price) in enumerate(act.lines, 1)
            ],
            "total_amount": act.total,
            "issued_at": at,
        }
        # With a prescriber the registry knows, the .v2 the central review's age and
        # pregnancy rules read; without one (village clinics), the .v1 older systems send.
        prescription = (
            PrescriptionIssuedV2(
                **fields,
                prescriber_id=act.prescriber_id,
                patient_age_band=act.age_band,
                pregnant=act.pregnant,
                shared_pharmacy=(
                    SharedPharmacyRequest(doses=act.shared_pharmacy_doses)
                    if act.shared_pharmacy_doses
                    else None
                ),
            )
            if act.prescriber_id is not None
            else PrescriptionIssued(**fields)
        )
        sink.send(
            prescription,
            at=at,
            facility_id=act.facility_id,
            national_id=act.patient.national_id,
        )
        self.result.prescriptions.append(act.prescription_id)
        self.result.counts["prescriptions"] += 1
        if act.shared_pharmacy_doses:
            self.result.counts["shared_pharmacy"] += 1

    def _test(self, sink: FeedRouter, act: OrderAct | ResultAct, at: datetime) -> None:
        """An order (at a repeat, quality recognises the earlier result or not), or a result."""
        order = act if isinstance(act, OrderAct) else act.order
        common: dict[str, Any] = {
            "facility_id": order.facility_id,
            "facility_tier": order.tier,
            "patient_pseudonym": self.endpoints.pseudonym(order.patient.national_id),
            "test_kind": order.test_kind,
            "test_code": order.test_code,
        }
        if isinstance(act, OrderAct):
            event: OrderPlaced | ResultReported = OrderPlaced(
                **common, order_id=act.order_id, visit_id=act.visit_id,
                orderer_id=act.orderer_id, department_id=act.department_id, ordered_at=at,
            )  # fmt: skip
            self.result.counts["repeat_orders" if act.repeat else "orders"] += 1
        else:
            event = ResultReported(
                **common, result_id=act.result_id, order_id=order.order_id,
                observation_count=act.observation_count, reported_at=at,
                performed_at=self.plan.clock.real(act.performed_at_s),
            )  # fmt: skip
            self.result.counts["results"] += 1
        sink.send(
            event, at=at, facility_id=order.facility_id, national_id=order.patient.national_id
        )

    def _attendance(self, act: SessionAct) -> None:
        session_id = self.result.sessions.get(act.key)
        if session_id is None:
            return
        staffing = self.apis["staffing"]
        path = f"/sessions/{session_id}/{act.step.replace('_', '-')}"
        body = (
            {"patients_seen": act.patients_seen, "home_visits": act.home_visits}
            if act.step == "check_out"
            else None
        )
        try:
            staffing.post(
                path,
                role=Role.CLINIC_STAFF,
                facility=act.facility_id,
                actor="nurse",
                json=body,
                confirm=partial(
                    self._session_in, session_id, act.facility_id, SESSION_AFTER[act.step]
                ),
            )
        except ApiError as exc:
            self.result.problems.append(f"session {act.key} {act.step}: {exc}")
            return
        self.result.counts[f"session_{act.step}"] += 1
        if act.step == "check_out":
            self.result.delivered.append(session_id)

    def _session_in(self, session_id: str, facility_id: str, states: frozenset[str]) -> Any:
        listed = self.apis["staffing"].get(
            "/sessions",
            role=Role.CLINIC_STAFF,
            facility=facility_id,
            actor="nurse",
            params={"facility_id": facility_id, "limit": 500},
        )
        return next(
            (s for s in listed["items"] if s["session_id"] == session_id and s["status"] in states),
            None,
        )
