"""The referral admin API on a real database (SQLite and PostgreSQL), in-process."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from fhirclient.models.bundle import Bundle
from sqlalchemy import func, select

from libs.events.catalogue.values import HalfDay
from libs.events.envelope import utc_now
from libs.events.pseudonym import pseudonymise
from libs.platform.auth import Role
from services.referral.adapters.schema import Referral, SlaBreach
from services.referral.config import ReferralConfig
from tests.integration.referral.conftest import DRUGS, HOSPITAL_ONLY_DRUG, Api
from tests.support.harness import HandlerHarness
from tests.support.referral import (
    CLINIC,
    HOSPITAL,
    OTHER_CLINIC,
    PSEUDONYM_SECRET,
    chest_pain,
    downward,
    event,
    monday,
    resident_id,
    timetable,
    upward,
)


def tomorrow(cfg: ReferralConfig) -> str:
    return (cfg.clock.today() + timedelta(days=1)).isoformat()


def at_ten(cfg: ReferralConfig, day: str) -> str:
    local = datetime.combine(datetime.fromisoformat(day).date(), time(10), tzinfo=cfg.clock.zone)
    return local.isoformat()


def publish(api: Api, department: str, day: str, slots: int = 0, beds: int = 0):
    return api.client.put(
        f"/capacity/{HOSPITAL}/{department}/{day}",
        json={"slots": slots, "beds": beds},
        headers=api.clinic(HOSPITAL),
    )


def events_of(harness: HandlerHarness, referral_id: str) -> list:
    return [e for e in harness.published() if e.subject == referral_id]


def test_a_referral_from_request_to_completion(
    api: Api, harness: HandlerHarness, cfg: ReferralConfig
) -> None:
    day = tomorrow(cfg)
    assert publish(api, "QS-H01-ORTH", day, slots=2).status_code == 200
    clinic, hospital = api.clinic(CLINIC), api.clinic(HOSPITAL)
    national_id = resident_id()
    created = api.post(
        "/referrals", clinic, upward("陈建国", national_id, to_department_id="QS-H01-ORTH")
    )
    assert created.status_code == 201, created.text
    referral = created.json()
    rid = referral["referral_id"]
    assert referral["state"] == "requested"
    assert referral["earliest_free_day"] == day
    assert referral["allowed_actions"] == ["cancel"]  # the referrer may only withdraw
    assert referral["patient"]["name"] == "陈建国"
    assert referral["patient"]["national_id"] == national_id

    accepted = api.post(f"/referrals/{rid}/accept", hospital)
    assert accepted.status_code == 200
    assert accepted.json()["state"] == "accepted"
    assert accepted.json()["allowed_actions"] == ["schedule"]

    again = api.post(f"/referrals/{rid}/accept", hospital)
    assert again.status_code == 409
    assert again.json()["error"] == "invalid_transition"
    assert again.json()["details"] == {
        "state": "accepted",
        "action": "accept",
        "allowed": ["schedule", "cancel"],
    }
    early = api.post(f"/referrals/{rid}/complete", hospital)
    assert early.status_code == 409
    assert early.json()["details"]["allowed"] == ["schedule", "cancel"]

    scheduled = api.post(
        f"/referrals/{rid}/schedule", hospital, {"scheduled_for": at_ten(cfg, day)}
    )
    assert scheduled.status_code == 200, scheduled.text
    assert scheduled.json()["capacity_hold"]["kind"] == "slot"
    [held] = api.get(
        f"/capacity/{HOSPITAL}/QS-H01-ORTH", hospital, **{"from": day, "to": day}
    ).json()
    assert (held["held_slots"], held["free_slots"]) == (1, 1)
    assert api.post(f"/referrals/{rid}/complete", hospital).status_code == 409
    assert api.post(f"/referrals/{rid}/arrive", hospital).json()["state"] == "arrived"
    done = api.post(f"/referrals/{rid}/complete", hospital, {"record_returned": True})
    assert done.json()["state"] == "completed"
    assert done.json()["record_returned"] is True
    assert done.json()["allowed_actions"] == []

    steps = api.get(f"/referrals/{rid}/timeline", clinic).json()
    assert [s["kind"] for s in steps] == [
        "requested",
        "accepted",
        "scheduled",
        "arrived",
        "completed",
    ]
    published = events_of(harness, rid)
    assert [e.type.split(".")[2] for e in published] == [
        "requested",
        "accepted",
        "scheduled",
        "arrived",
        "completed",
    ]
    assert [s["event_id"] for s in steps] == [e.id for e in published]
    requested = published[0].data
    assert requested.patient_pseudonym == pseudonymise(national_id, PSEUDONYM_SECRET.encode())
    assert requested.accept_due_at - requested.requested_at == timedelta(hours=2)
    assert all(e.data.to_facility_id == HOSPITAL and e.data.priority == "urgent" for e in published)


def test_a_clinic_sees_and_does_only_what_is_its_own(api: Api, cfg: ReferralConfig) -> None:
    publish(api, "QS-H01-RESP", tomorrow(cfg), slots=5)
    clinic, other, hospital = api.clinic(CLINIC), api.clinic(OTHER_CLINIC), api.clinic(HOSPITAL)
    body = upward("刘桂兰", resident_id(), to_department_id="QS-H01-RESP")
    rid = api.post("/referrals", clinic, body).json()["referral_id"]

    for path in (f"/referrals/{rid}", f"/referrals/{rid}/timeline", f"/referrals/{rid}/fhir"):
        refused = api.get(path, other)
        assert refused.status_code == 403, path
        assert "刘桂兰" not in refused.text
    for action in ("accept", "arrive"):
        assert api.post(f"/referrals/{rid}/{action}", other).status_code == 403
    assert (
        api.post(f"/referrals/{rid}/cancel", other, {"reason_code": "patient_declined"}).status_code
        == 403
    )
    listed = api.get("/referrals", other, limit=500).json()
    assert rid not in {item["referral_id"] for item in listed["items"]}
    assert api.get("/referrals", other, facility_id=CLINIC).status_code == 403
    assert api.post("/referrals", other, body).status_code == 403  # not from QS-T02

    # Each party does only its own part; the county may do either.
    assert api.post(f"/referrals/{rid}/accept", clinic).status_code == 403
    hospital_cancel = api.post(
        f"/referrals/{rid}/cancel", hospital, {"reason_code": "patient_declined"}
    )
    assert hospital_cancel.status_code == 403
    assert "referring facility QS-T01" in hospital_cancel.json()["message"]
    assert api.get(f"/referrals/{rid}", api.as_()).status_code == 200

    assert api.get("/referrals", api.as_(Role.PHARMACY_CENTRE)).status_code == 403
    assert api.client.get("/referrals").status_code == 401
    assert api.get("/referrals/RF-does-not-exist", clinic).status_code == 404

    mine = api.get("/referrals", hospital, direction="up", state="requested", limit=500).json()
    assert rid in {item["referral_id"] for item in mine["items"]}
    item = next(i for i in mine["items"] if i["referral_id"] == rid)
    assert item["patient"]["national_id"].count("*") == 8  # masked in lists
    breached = api.get("/referrals", hospital, breached=True, limit=500).json()
    assert rid not in {item["referral_id"] for item in breached["items"]}


def test_capacity_is_looked_up_before_a_request_and_held_by_a_schedule(
    api: Api, cfg: ReferralConfig
) -> None:
    day = tomorrow(cfg)
    clinic, hospital = api.clinic(CLINIC), api.clinic(HOSPITAL)
    surgery = {"to_department_id": "QS-H01-SURG", "reason_code": "needs_surgery"}
    full = api.post("/referrals", clinic, upward("赵强", resident_id(), **surgery))
    assert full.status_code == 409
    assert full.json()["error"] == "capacity_full"

    assert publish(api, "QS-H01-SURG", day, slots=1).json()["free_slots"] == 1
    first, second = (
        api.post("/referrals", clinic, upward(name, resident_id(), **surgery)).json()["referral_id"]
        for name in ("赵强", "孙丽")
    )
    for rid in (first, second):
        assert api.post(f"/referrals/{rid}/accept", hospital).status_code == 200
    slot = {"scheduled_for": at_ten(cfg, day)}
    assert api.post(f"/referrals/{first}/schedule", hospital, slot).status_code == 200
    taken = api.post(f"/referrals/{second}/schedule", hospital, slot)
    assert taken.status_code == 409
    assert taken.json()["error"] == "capacity_full"
    assert api.get(f"/referrals/{second}", hospital).json()["state"] == "accepted"
    assert publish(api, "QS-H01-SURG", day, slots=0).status_code == 409  # one is held

    withdrawn = api.post(f"/referrals/{first}/cancel", clinic, {"reason_code": "condition_changed"})
    assert withdrawn.json()["capacity_hold"] is None
    assert api.post(f"/referrals/{second}/schedule", hospital, slot).status_code == 200

    assert publish(api, "QS-H01-NOPE", day, slots=1).status_code == 422
    assert (
        api.client.put(
            f"/capacity/{HOSPITAL}/QS-H01-SURG/{day}", json={"slots": 9, "beds": 0}, headers=clinic
        ).status_code
        == 403
    )
    yesterday = (cfg.clock.today() - timedelta(days=1)).isoformat()
    assert publish(api, "QS-H01-SURG", yesterday, slots=1).json()["error"] == "day_in_past"


def test_unknown_codes_and_broken_rules_are_refused_with_422(api: Api, cfg: ReferralConfig) -> None:
    publish(api, "QS-H01-ENDO", tomorrow(cfg), slots=5)
    clinic, hospital = api.clinic(CLINIC), api.clinic(HOSPITAL)
    name, national_id = "钱玉珍", resident_id()
    endo = {"to_department_id": "QS-H01-ENDO"}
    cases = {
        "unknown_facility": (clinic, upward(name, national_id, to_facility_id="QS-H99", **endo)),
        "unknown_department": (clinic, upward(name, national_id, to_department_id="QS-H01-XX")),
        "unknown_code": (clinic, upward(name, national_id, reason_code="rehabilitation", **endo)),
        "direction_mismatch": (
            hospital,
            upward(
                name,
                national_id,
                from_facility_id=HOSPITAL,
                to_facility_id=CLINIC,
                to_department_id=None,
            ),
        ),
        "green_channel_not_allowed": (
            clinic,
            upward(name, national_id, green_channel="stroke", **endo),
        ),
        "follow_up_plan_required": (
            hospital,
            {**downward(name, national_id), "follow_up_plan": None},
        ),
        "unknown_drug": (hospital, downward(name, national_id, DRUGS[0], "D-NOT-LISTED")),
        "drug_not_allowed": (hospital, downward(name, national_id, HOSPITAL_ONLY_DRUG)),
        "duplicate_medication": (hospital, downward(name, national_id, DRUGS[0], DRUGS[0])),
        "requested_in_future": (
            clinic,
            upward(
                name, national_id, requested_at=(utc_now() + timedelta(hours=2)).isoformat(), **endo
            ),
        ),
    }
    for code, (who, body) in cases.items():
        refused = api.post("/referrals", who, body)
        assert (refused.status_code, refused.json()["error"]) == (422, code), refused.text
        assert name not in refused.text
        assert national_id not in refused.text

    bad_number = national_id[:-1] + ("0" if national_id[-1] != "0" else "1")
    refused = api.post("/referrals", clinic, upward(name, bad_number, **endo))
    assert refused.status_code == 422
    assert refused.json()["details"][0]["loc"][-1] == "national_id"
    assert bad_number not in refused.text
    assert name not in refused.text
    extra = api.post("/referrals", clinic, {**upward(name, national_id, **endo), "ward": "3"})
    assert extra.status_code == 422

    rid = api.post("/referrals", clinic, upward(name, national_id, **endo)).json()["referral_id"]
    unknown_reason = api.post(f"/referrals/{rid}/reject", hospital, {"reason_code": "busy"})
    assert (unknown_reason.status_code, unknown_reason.json()["error"]) == (422, "unknown_code")
    declined = api.post(f"/referrals/{rid}/reject", hospital, {"reason_code": "no_capacity"})
    assert declined.json()["state"] == "rejected"
    assert declined.json()["end_reason_code"] == "no_capacity"


def test_a_downward_referral_carries_its_plan_and_books_the_follow_up(
    api: Api, harness: HandlerHarness, cfg: ReferralConfig
) -> None:
    today = cfg.clock.today()
    visit = today + timedelta(days=8)
    week = timetable(
        "QS-T03",
        monday(visit),
        ("SES-T03-CARD", visit, HalfDay.MORNING, "cardiology"),
        ("SES-T03-NEUR", visit - timedelta(days=1), HalfDay.MORNING, "neurology"),
    )
    harness.apply(event(week))
    hospital, clinic = api.clinic(HOSPITAL), api.clinic("QS-T03")
    body = downward("周国华", resident_id(), *DRUGS, to_facility_id="QS-T03")
    created = api.post("/referrals", hospital, body)
    assert created.status_code == 201, created.text
    rid = created.json()["referral_id"]
    assert created.json()["follow_up_booking"] is None  # booked once the clinic accepts

    accepted = api.post(f"/referrals/{rid}/accept", clinic).json()
    assert accepted["follow_up_booking"]["session_id"] == "SES-T03-CARD"  # the sender's specialty
    [accept_event] = [e for e in events_of(harness, rid) if e.type.endswith("accepted.v1")]
    medications = accept_event.data.follow_up_plan.medications
    assert [(m.drug_code, m.quantity) for m in medications] == [(DRUGS[0], 2), (DRUGS[1], 3)]
    assert accept_event.data.to_facility_id == "QS-T03"
    assert accept_event.data.direction == "down"
    [booked] = [e for e in events_of(harness, rid) if e.type.endswith("follow_up_booked.v1")]
    assert (booked.data.session_id, booked.data.date) == ("SES-T03-CARD", visit)


def test_a_green_channel_patient_goes_straight_in_and_a_late_acceptance_is_a_breach(
    api: Api, harness: HandlerHarness
) -> None:
    clinic, hospital = api.clinic(CLINIC), api.clinic(HOSPITAL)
    called = (utc_now() - timedelta(minutes=25)).isoformat()  # entered after the phone call
    body = chest_pain("吴志明", resident_id(), to_department_id="QS-H01-EMER", requested_at=called)
    created = api.post("/referrals", clinic, body)
    assert created.status_code == 201, created.text  # no capacity published: never refused
    rid = created.json()["referral_id"]
    accepted = api.post(f"/referrals/{rid}/accept", hospital).json()
    assert [b["stage"] for b in accepted["sla_breaches"]] == ["acceptance"]
    assert accepted["escalated_to_role"] == "medical_director"
    assert accepted["allowed_actions"] == ["schedule", "arrive"]
    assert api.post(f"/referrals/{rid}/arrive", hospital).json()["state"] == "arrived"
    assert api.post(f"/referrals/{rid}/complete", hospital).json()["state"] == "completed"
    types = [e.type for e in events_of(harness, rid)]
    assert types.count("referral.referral.sla_breached.v1") == 1
    for filters in (
        {"breached": True, "green_channel": "chest_pain"},
        {"escalated_to_role": "medical_director"},
    ):
        listed = api.get("/referrals", hospital, limit=500, **filters).json()["items"]
        assert rid in {item["referral_id"] for item in listed}


def test_the_fhir_view_validates_as_r4(api: Api, cfg: ReferralConfig) -> None:
    publish(api, "QS-H01-NEUR", tomorrow(cfg), beds=2)
    clinic, hospital = api.clinic(CLINIC), api.clinic(HOSPITAL)
    body = upward(
        "郑海燕",
        resident_id(),
        to_department_id="QS-H01-NEUR",
        needs_bed=True,
        reason_code="needs_inpatient",
        diagnosis_codes=["I63.9"],
    )
    rid = api.post("/referrals", clinic, body).json()["referral_id"]
    api.post(f"/referrals/{rid}/accept", hospital)
    api.post(f"/referrals/{rid}/schedule", hospital, {"scheduled_for": at_ten(cfg, tomorrow(cfg))})
    view = api.get(f"/referrals/{rid}/fhir", clinic)
    assert view.status_code == 200
    assert "郑海燕" not in view.text
    assert body["patient"]["national_id"] not in view.text
    bundle = Bundle(view.json())
    request, task = (entry.resource for entry in bundle.entry)
    assert (request.status, task.status) == ("active", "ready")
    assert task.businessStatus.coding[0].code == "scheduled"
    assert request.occurrenceDateTime is not None
    assert request.performer[1].identifier.value == "QS-H01-NEUR"


def test_metrics_count_referrals_acceptance_times_and_breaches(
    api: Api, harness: HandlerHarness
) -> None:
    clinic, hospital = api.clinic(CLINIC), api.clinic(HOSPITAL)
    called = (utc_now() - timedelta(minutes=12)).isoformat()
    body = chest_pain("冯春梅", resident_id(), to_department_id="QS-H01-EMER", requested_at=called)
    rid = api.post("/referrals", clinic, body).json()["referral_id"]
    api.post(f"/referrals/{rid}/accept", hospital)

    with harness.database.sessions() as session:
        rows = session.execute(
            select(Referral.direction, Referral.priority, Referral.state, func.count()).group_by(
                Referral.direction, Referral.priority, Referral.state
            )
        ).all()
        emergencies_accepted = session.scalar(
            select(func.count()).where(
                Referral.priority == "emergency", Referral.accept_seconds.is_not(None)
            )
        )
        breaches = session.scalar(
            select(func.count()).select_from(SlaBreach).where(SlaBreach.priority == "emergency")
        )
    text = api.client.get("/metrics").text
    samples = dict(line.rsplit(" ", 1) for line in text.splitlines() if not line.startswith("#"))
    for direction, priority, state, count in rows:
        key = f'referral_referrals{{direction="{direction}",priority="{priority}",state="{state}"}}'
        assert float(samples[key]) == count
    assert float(samples['referral_time_to_accept_seconds_count{priority="emergency"}']) == (
        emergencies_accepted
    )
    # Accepted 12 minutes after the call: beyond the 10-minute bucket, within 30 minutes.
    assert (
        float(samples['referral_time_to_accept_seconds_bucket{le="1800.0",priority="emergency"}'])
        >= 1
    )
    key = 'referral_sla_breaches_total{priority="emergency",stage="acceptance"}'
    assert breaches
    assert float(samples[key]) == breaches
