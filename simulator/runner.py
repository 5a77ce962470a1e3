"""Plays a plan against the running suite: the set-up the day starts from, then every act
in time order, as fast as the suite takes them (or paced). All I/O goes through
``simulator.drivers``."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from libs.events.catalogue.ingestion import PrescriptionIssued, PrescriptionLine, VisitRecorded
from libs.platform.auth import Role
from simulator.activity import (
    PharmacyRound,
    Plan,
    PrescriptionAct,
    ReferralAct,
    SessionAct,
    VisitAct,
)
from simulator.county import County
from simulator.drivers import Api, ApiError, Endpoints, EventSink, Settler, SuiteProbe, Tokens

__all__ = ["RunResult", "Simulation"]

COUNTY_TZ = ZoneInfo("Asia/Shanghai")
WORKERS = 6

#: The states a referral, a session or a transfer can be in once a step was applied (the
#: simulator plays each one's steps in order, so a later state means the step was done).
REFERRAL_AFTER = {
    "accept": frozenset({"accepted", "scheduled", "arrived", "completed"}),
    "reject": frozenset({"rejected"}),
    "schedule": frozenset({"scheduled", "arrived", "completed"}),
    "arrive": frozenset({"arrived", "completed"}),
    "complete": frozenset({"completed"}),
}
SESSION_AFTER = {
    "check_in": frozenset({"checked_in", "delivered"}),
    "check_out": frozenset({"delivered"}),
}
TRANSFER_AFTER = {
    "approve": frozenset({"approved", "shipped", "received"}),
    "ship": frozenset({"shipped", "received"}),
    "receive": frozenset({"received"}),
    "cancel": frozenset({"cancelled"}),
    "reject": frozenset({"rejected"}),
}


@dataclass
class RunResult:
    counts: Counter[str] = field(default_factory=Counter)
    prescriptions: list[str] = field(default_factory=list)
    referrals: dict[str, str] = field(default_factory=dict)  # plan key -> referral id
    referral_steps: dict[str, list[str]] = field(default_factory=dict)  # id -> steps done
    sessions: dict[str, str] = field(default_factory=dict)  # plan key -> session id
    delivered: list[str] = field(default_factory=list)
    transfers_received: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    faults: Counter[str] = field(default_factory=Counter)  # waited out by the API clients
    started: datetime | None = None
    finished: datetime | None = None
    settled: bool = True

    def summary(self) -> dict[str, Any]:
        return {
            "counts": dict(sorted(self.counts.items())),
            "problems": len(self.problems),
            "settled": self.settled,
            "seconds": (self.finished - self.started).total_seconds()
            if self.started and self.finished
            else None,
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
        self._shipped_before: set[str] = set()

    # --- the whole run ----------------------------------------------------------------

    def run(self, *, ready_timeout_s: float = 180.0) -> RunResult:
        self.result.started = datetime.now(UTC)
        self.wait_ready(ready_timeout_s)
        self.setup()
        sink = EventSink(self.endpoints)
        probe: Settler = self._settler or SuiteProbe(self.apis)
        probe.start()
        if self._on_play is not None:
            self._on_play()
        try:
            self.play(sink, probe)
        finally:
            sink.close()
            if sink.resent:
                self.result.faults["his:resent"] += sink.resent
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
        while True:  # the pharmacy's copies: the organisation and the seed formulary
            try:
                pharmacy.get(f"/directory/facilities/{last}")
                if pharmacy.get("/formulary/drugs", params={"limit": 1})["total"] > 0:
                    return
            except ApiError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError("the pharmacy does not know the county yet")
            time.sleep(0.5)

    # --- set-up ------------------------------------------------------------------------

    def today(self) -> date:
        return datetime.now(COUNTY_TZ).date()

    def _parallel(self, jobs: list[Callable[[], None]]) -> None:
        with ThreadPoolExecutor(WORKERS) as pool:
            for future in [pool.submit(job) for job in jobs]:
                future.result()

    def setup(self) -> None:
        started = time.monotonic()
        self._list_formulary()
        self._opening_stock()
        self._capacity()
        self._staffing()
        self.say(f"set-up done in {time.monotonic() - started:.1f}s")

    def _list_formulary(self) -> None:
        pharmacy = self.apis["pharmacy"]
        listed = {d["drug_code"] for d in pharmacy.all_items("/formulary/drugs")}
        missing = [d for d in self.county.drugs if d.drug_code not in listed]

        def listing(index: int, body: dict[str, Any]) -> Callable[[], None]:
            def job() -> None:
                try:
                    pharmacy.post(
                        "/formulary/drugs",
                        role=Role.PHARMACY_CENTRE,
                        actor=f"formulary-{index % WORKERS}",
                        json=body,
                    )
                    self.result.counts["drugs_listed"] += 1
                except ApiError as exc:
                    if exc.code != "already_listed":
                        self.result.problems.append(str(exc))

            return job

        self._parallel([listing(i, d.listing()) for i, d in enumerate(missing)])

    def _opening_stock(self) -> None:
        pharmacy = self.apis["pharmacy"]
        today = self.today()

        def receipt(index: int, lot: Any) -> Callable[[], None]:
            central = self.county.central_pharmacy(lot.facility_id) == lot.facility_id
            body = {
                "drug_code": lot.drug_code,
                "lot_number": lot.lot_number,
                "expiry_date": (today + timedelta(days=lot.expires_in_days)).isoformat(),
                "quantity": lot.quantity,
                "unit_cost": f"{lot.unit_cost:.4f}",
                "source": "purchase" if central else "opening_balance",
                "reference_id": f"SIM-{self.plan.run_id}",
            }

            def job() -> None:
                try:
                    pharmacy.post(
                        f"/stock/{lot.facility_id}/receipts",
                        role=Role.PHARMACY_CENTRE,
                        actor=f"storekeeper-{index % (WORKERS * 2)}",
                        json=body,
                    )
                    self.result.counts["lots_received"] += 1
                except ApiError as exc:
                    self.result.problems.append(str(exc))

            return job

        self._parallel([receipt(i, lot) for i, lot in enumerate(self.plan.opening_stock)])

    def _capacity(self) -> None:
        today = self.today()
        jobs: list[Callable[[], None]] = []
        for hospital in self.county.hospitals:
            for department in hospital.departments:
                if department.specialty == "pharmacy":
                    continue
                for ahead in range(15):
                    jobs.append(
                        partial(
                            self._publish_capacity,
                            hospital.facility_id,
                            department.department_id,
                            today + timedelta(days=ahead),
                        )
                    )
        self._parallel(jobs)

    def _publish_capacity(self, facility_id: str, department_id: str, day: date) -> None:
        try:
            self.apis["referral"].put(
                f"/capacity/{facility_id}/{department_id}/{day.isoformat()}",
                role=Role.CLINIC_STAFF,
                facility=facility_id,
                actor=f"desk-{department_id}",
                json={"slots": 60, "beds": 20},
            )
        except ApiError as exc:
            if exc.status != 409:  # fewer than already held: keep what is there
                self.result.problems.append(str(exc))

    def _staffing(self) -> None:
        staffing = self.apis["staffing"]
        today = self.today()
        monday = today - timedelta(days=today.weekday())
        for st in self.plan.stationings:
            body: dict[str, Any] = {
                "staff_id": st.staff_id,
                "facility_id": st.facility_id,
                "start_date": today.isoformat(),
                "planned_end_date": (today + timedelta(days=30 * st.months)).isoformat(),
            }
            self._tolerate(
                partial(staffing.post, "/stationings", role=Role.HR, json=body), "stationing"
            )
        for rot in self.plan.rotations:
            body = {
                "staff_id": rot.staff_id,
                "facility_id": rot.facility_id,
                "slots": [{"weekday": rot.weekday, "half_day": rot.half_day}],
                "start_date": (monday + timedelta(days=7)).isoformat(),
                "end_date": (monday + timedelta(days=7 * rot.weeks - 1)).isoformat(),
            }
            self._tolerate(
                partial(staffing.post, "/rotations", role=Role.HR, json=body), "rotation"
            )
        for planned in self.plan.sessions:
            body = {
                "staff_id": planned.staff_id,
                "facility_id": planned.facility_id,
                "date": (today + timedelta(days=planned.day_offset)).isoformat(),
                "half_day": planned.half_day,
            }
            created = self._tolerate(
                partial(staffing.post, "/sessions", role=Role.HR, json=body), "session"
            )
            if created:
                self.result.sessions[planned.key] = created["session_id"]
        for week in (monday, monday + timedelta(days=7)):
            path = f"/timetable/weeks/{week.isoformat()}/publish"
            self._tolerate(partial(staffing.post, path, role=Role.HR), "timetable")

    def _tolerate(self, call: Callable[[], Any], what: str) -> Any:
        """Planning refused (409: already there from an earlier run, a rule) is noted, not
        fatal: the county simply has one less of it today."""
        try:
            done = call()
            self.result.counts[f"{what}_planned"] += 1
            return done
        except ApiError as exc:
            self.result.counts[f"{what}_refused"] += 1
            if exc.status != 409:
                self.result.problems.append(str(exc))
            return None

    # --- the period ---------------------------------------------------------------------

    def play(self, sink: EventSink, probe: Settler) -> None:
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
            elif isinstance(act, ReferralAct):
                self._referral(act, at)
            elif isinstance(act, SessionAct):
                self._attendance(act)
            elif isinstance(act, PharmacyRound):
                sink.flush()
                self.result.settled &= probe.settle(sink.sent, say=self.say)
                self._pharmacy_round(final=act.final)
                if act.final:
                    self.result.settled &= probe.settle(sink.sent, say=self.say)
        self.result.counts.update({f"sent:{t}": n for t, n in sink.sent.items()})

    def _visit(self, sink: EventSink, act: VisitAct, at: datetime) -> None:
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
        )
        self.result.counts["visits"] += 1

    def _prescription(self, sink: EventSink, act: PrescriptionAct, at: datetime) -> None:
        sink.send(
            PrescriptionIssued(
                prescription_id=act.prescription_id,
                visit_id=act.visit_id,
                facility_id=act.facility_id,
                facility_tier=act.tier,
                patient_pseudonym=self.endpoints.pseudonym(act.patient.national_id),
                department_id=act.department_id,
                category=act.category,
                lines=[
                    PrescriptionLine(line_no=i, drug_code=code, quantity=packs, unit_price=price)
                    for i, (code, packs, price) in enumerate(act.lines, 1)
                ],
                total_amount=act.total,
                issued_at=at,
            ),
            at=at,
            facility_id=act.facility_id,
        )
        self.result.prescriptions.append(act.prescription_id)
        self.result.counts["prescriptions"] += 1

    def _referral(self, act: ReferralAct, at: datetime) -> None:
        referral = self.apis["referral"]
        staff: dict[str, Any] = {
            "role": Role.CLINIC_STAFF,
            "facility": act.actor_facility_id,
            "actor": "desk",
        }
        if act.step == "request":
            body = dict(act.body)
            if act.backdate and at > datetime.now(UTC) - timedelta(hours=23):
                body["requested_at"] = at.isoformat()
            deadline = time.monotonic() + 60
            while True:
                try:
                    created = referral.post(
                        "/referrals",
                        json=body,
                        confirm=partial(self._find_referral, body, staff),
                        **staff,
                    )
                    break
                except ApiError as exc:
                    lagging = exc.status == 422 and exc.code in ("unknown_drug", "unknown_facility")
                    if lagging and time.monotonic() < deadline:
                        time.sleep(0.5)  # the referral service's copies are catching up
                        continue
                    self.result.counts["referral_request_refused"] += 1
                    self.result.problems.append(f"referral {act.key}: {exc}")
                    return
            self.result.referrals[act.key] = created["referral_id"]
            self.result.referral_steps[created["referral_id"]] = ["request"]
            self.result.counts[f"referrals_{body['direction']}"] += 1
            return
        referral_id = self.result.referrals.get(act.key)
        if referral_id is None:
            return  # its request was refused
        body_for: dict[str, Any] = {
            "accept": None,
            "arrive": None,
            "reject": {"reason_code": "no_capacity"},
            "complete": {"record_returned": True},
        }
        try:
            if act.step == "schedule":
                self._schedule(referral_id, staff)
            else:
                referral.post(
                    f"/referrals/{referral_id}/{act.step}",
                    json=body_for[act.step],
                    confirm=partial(
                        self._referral_in, referral_id, REFERRAL_AFTER[act.step], staff
                    ),
                    **staff,
                )
        except ApiError as exc:
            self.result.problems.append(f"referral {act.key} {act.step}: {exc}")
            return
        self.result.referral_steps[referral_id].append(act.step)
        self.result.counts[f"referral_{act.step}"] += 1

    def _schedule(self, referral_id: str, staff: dict[str, Any]) -> None:
        tomorrow = self.today() + timedelta(days=1)
        for ahead in range(6):  # the next day with a free slot or bed
            day = tomorrow + timedelta(days=ahead)
            when = datetime(day.year, day.month, day.day, 9, 30, tzinfo=COUNTY_TZ)
            try:
                self.apis["referral"].post(
                    f"/referrals/{referral_id}/schedule",
                    json={"scheduled_for": when.isoformat()},
                    confirm=partial(
                        self._referral_in, referral_id, REFERRAL_AFTER["schedule"], staff
                    ),
                    **staff,
                )
                return
            except ApiError as exc:
                if exc.code != "capacity_full" or ahead == 5:
                    raise

    # What the desk reads when a request's answer was lost (a service killed mid-request):
    # has it taken effect? ``None`` sends it again (see ``drivers.Api``).

    def _find_referral(self, body: dict[str, Any], staff: dict[str, Any]) -> Any:
        """The referral this request created, if it did: from the same facility to the same
        facility, for the same patient (by pseudonym), and not one this run already knows."""
        pseudonym = self.endpoints.pseudonym(body["patient"]["national_id"])
        known = set(self.result.referrals.values())
        listed = self.apis["referral"].get(
            "/referrals",
            params={
                "from_facility_id": body["from_facility_id"],
                "to_facility_id": body["to_facility_id"],
                "direction": body["direction"],
                "priority": body["priority"],
                "limit": 500,
            },
            **staff,
        )
        for row in listed["items"]:
            if row["referral_id"] not in known and row["patient"]["pseudonym"] == pseudonym:
                return self.apis["referral"].get(f"/referrals/{row['referral_id']}", **staff)
        return None

    def _referral_in(self, referral_id: str, states: frozenset[str], staff: dict[str, Any]) -> Any:
        found = self.apis["referral"].get(f"/referrals/{referral_id}", **staff)
        return found if found["state"] in states else None

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

    def _transfer_in(self, transfer_id: str, states: frozenset[str]) -> Any:
        found = self.apis["pharmacy"].get(f"/transfers/{transfer_id}", role=Role.PHARMACY_CENTRE)
        return found if found["state"] in states else None

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

    def _pharmacy_round(self, *, final: bool) -> None:
        """Receive what was shipped in an earlier round (in transit until now), then approve
        and ship what was asked for; at the end of the period, receive everything."""
        pharmacy = self.apis["pharmacy"]
        if not final:
            self._receive(pharmacy, only=self._shipped_before)
        requested = pharmacy.all_items("/transfers", role=Role.PHARMACY_CENTRE, state="requested")
        shipped_now: set[str] = set()
        for transfer in sorted(requested, key=lambda t: (t["to_facility_id"], t["transfer_id"])):
            tid = transfer["transfer_id"]
            if not self._approve(pharmacy, transfer):
                continue
            try:
                pharmacy.post(
                    f"/transfers/{tid}/ship",
                    role=Role.CLINIC_STAFF,
                    facility=transfer["from_facility_id"],
                    actor="store",
                    json={},
                    confirm=partial(self._transfer_in, tid, TRANSFER_AFTER["ship"]),
                )
                self.result.counts["transfers_shipped"] += 1
                shipped_now.add(tid)
            except ApiError as exc:
                if exc.code == "insufficient_stock":
                    pharmacy.post(
                        f"/transfers/{tid}/cancel",
                        role=Role.PHARMACY_CENTRE,
                        json={"reason": "insufficient_stock"},
                        confirm=partial(self._transfer_in, tid, TRANSFER_AFTER["cancel"]),
                    )
                    self.result.counts["transfers_cancelled"] += 1
                else:
                    self.result.problems.append(f"ship {tid}: {exc}")
        self._shipped_before = shipped_now
        if final:
            self._receive(pharmacy, only=None)

    def _approve(self, pharmacy: Api, transfer: dict[str, Any]) -> bool:
        """Approve as requested or, when the sender lacks some of it, what it can offer; a
        request it can offer nothing of is rejected. True if approved."""
        tid = transfer["transfer_id"]
        body: dict[str, Any] = {}
        for attempt in ("as requested", "what is on offer"):
            try:
                pharmacy.post(
                    f"/transfers/{tid}/approve",
                    role=Role.PHARMACY_CENTRE,
                    json=body,
                    actor="approver",
                    confirm=partial(self._transfer_in, tid, TRANSFER_AFTER["approve"]),
                )
                self.result.counts["transfers_approved"] += 1
                return True
            except ApiError as exc:
                on_offer = (exc.body.get("details") or {}).get("available")
                if exc.code != "insufficient_stock" or attempt != "as requested" or not on_offer:
                    self.result.problems.append(f"approve {tid}: {exc}")
                    return False
                lines = [{"drug_code": d, "quantity": q} for d, q in sorted(on_offer.items())]
                if all(q == 0 for q in on_offer.values()) and len(on_offer) == len(
                    transfer["lines"]
                ):
                    break
                body = {"lines": lines}
        try:
            pharmacy.post(
                f"/transfers/{tid}/reject",
                role=Role.PHARMACY_CENTRE,
                json={"reason": "insufficient_stock"},
                confirm=partial(self._transfer_in, tid, TRANSFER_AFTER["reject"]),
            )
            self.result.counts["transfers_rejected"] += 1
        except ApiError as exc:
            self.result.problems.append(f"reject {tid}: {exc}")
        return False

    def _receive(self, pharmacy: Api, only: set[str] | None) -> None:
        shipped = pharmacy.all_items("/transfers", role=Role.PHARMACY_CENTRE, state="shipped")
        for transfer in sorted(shipped, key=lambda t: t["transfer_id"]):
            tid = transfer["transfer_id"]
            if only is not None and tid not in only:
                continue
            try:
                pharmacy.post(
                    f"/transfers/{tid}/receive",
                    role=Role.CLINIC_STAFF,
                    facility=transfer["to_facility_id"],
                    actor="store",
                    confirm=partial(self._transfer_in, tid, TRANSFER_AFTER["receive"]),
                )
                self.result.counts["transfers_received"] += 1
                self.result.transfers_received.append(tid)
            except ApiError as exc:
                self.result.problems.append(f"receive {tid}: {exc}")
