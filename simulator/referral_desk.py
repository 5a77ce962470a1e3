"""The referral desks' part of the plan: requests sent up or down the county's tiers, then
each referral's steps (accept or reject, schedule, arrival, completion) in order, through
the referral service's HTTP API."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from libs.platform.auth import Role
from simulator.activity import ReferralAct
from simulator.clock import COUNTY_TZ, county_today
from simulator.drivers import Api, ApiError, Endpoints
from simulator.run_result import RunResult

__all__ = ["REFERRAL_AFTER", "ReferralDesk"]

#: The states a referral can be in once a step was applied (the simulator plays each one's
#: steps in order, so a later state means the step was done).
REFERRAL_AFTER = {
    "accept": frozenset({"accepted", "scheduled", "arrived", "completed"}),
    "reject": frozenset({"rejected"}),
    "schedule": frozenset({"scheduled", "arrived", "completed"}),
    "arrive": frozenset({"arrived", "completed"}),
    "complete": frozenset({"completed"}),
}

#: What each step after the request sends ("schedule" finds its own day).
STEP_BODY: dict[str, Any] = {
    "accept": None,
    "arrive": None,
    "reject": {"reason_code": "no_capacity"},
    "complete": {"record_returned": True},
}


@dataclass
class ReferralDesk:
    """Plays referral acts; the referrals it created and their steps go into ``result``."""

    api: Api  # the referral service's
    endpoints: Endpoints
    result: RunResult

    def play(self, act: ReferralAct, at: datetime) -> None:
        staff: dict[str, Any] = {
            "role": Role.CLINIC_STAFF,
            "facility": act.actor_facility_id,
            "actor": "desk",
        }
        if act.step == "request":
            self._request(act, at, staff)
        else:
            self._step(act, staff)

    def _request(self, act: ReferralAct, at: datetime, staff: dict[str, Any]) -> None:
        body = dict(act.body)
        if act.backdate and at > datetime.now(UTC) - timedelta(hours=23):
            body["requested_at"] = at.isoformat()
        deadline = time.monotonic() + 60
        while True:
            try:
                created = self.api.post(
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

    def _step(self, act: ReferralAct, staff: dict[str, Any]) -> None:
        referral_id = self.result.referrals.get(act.key)
        if referral_id is None:
            return  # its request was refused
        try:
            if act.step == "schedule":
                self._schedule(referral_id, staff)
            else:
                self.api.post(
                    f"/referrals/{referral_id}/{act.step}",
                    json=STEP_BODY[act.step],
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
        tomorrow = county_today() + timedelta(days=1)
        for ahead in range(6):  # the next day with a free slot or bed
            day = tomorrow + timedelta(days=ahead)
            when = datetime(day.year, day.month, day.day, 9, 30, tzinfo=COUNTY_TZ)
            try:
                self.api.post(
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
        listed = self.api.get(
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
                return self.api.get(f"/referrals/{row['referral_id']}", **staff)
        return None

    def _referral_in(self, referral_id: str, states: frozenset[str], staff: dict[str, Any]) -> Any:
        found = self.api.get(f"/referrals/{referral_id}", **staff)
        return found if found["state"] in states else None
