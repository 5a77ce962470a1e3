"""The set-up the simulated day starts from: the formulary listed, the opening stock
received, the hospitals' capacity published and the staffing plan made, all through the
services' HTTP APIs before the first act is played."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial
from typing import Any

from libs.platform.auth import Role
from simulator.activity import Plan
from simulator.clock import county_today
from simulator.county import County
from simulator.drivers import Api, ApiError
from simulator.run_result import RunResult

__all__ = ["WORKERS", "Opening"]

#: How many set-up calls go at once: enough to fill the services, not to swamp them.
WORKERS = 6


@dataclass
class Opening:
    """Prepares the county for a run; what it could not do is counted in ``result``."""

    county: County
    plan: Plan
    apis: dict[str, Api]
    result: RunResult
    say: Callable[[str], None]

    def run(self) -> None:
        started = time.monotonic()
        self._list_formulary()
        self._opening_stock()
        self._capacity()
        self._staffing()
        self.say(f"set-up done in {time.monotonic() - started:.1f}s")

    def _parallel(self, jobs: list[Callable[[], None]]) -> None:
        with ThreadPoolExecutor(WORKERS) as pool:
            for future in [pool.submit(job) for job in jobs]:
                future.result()

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
        today = county_today()

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
        today = county_today()
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
        today = county_today()
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
