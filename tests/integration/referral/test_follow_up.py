"""Follow-up bookings from staffing timetables, and the formulary copy, through the real
handlers (HandlerHarness: the worker's BatchProcessor on a real database)."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest

from libs.events.catalogue.pharmacy import DrugDelisted, DrugUpdated
from libs.events.catalogue.staffing import TimetableChange, TimetableChanged, TimetableEntry
from libs.events.catalogue.values import FacilityTier, HalfDay, StaffTitle
from libs.events.envelope import utc_now
from services.referral.adapters.schema import FollowUpBooking, FormularyDrug
from services.referral.config import ReferralConfig
from services.referral.domain.lifecycle import Action
from services.referral.service_layer.actions import ActionRequest, act
from services.referral.service_layer.errors import Actor, RuleViolation
from services.referral.service_layer.follow_up import record_timetable
from services.referral.service_layer.requests import request_referral
from tests.integration.referral.conftest import DRUGS
from tests.support.harness import HandlerHarness
from tests.support.referral import (
    HOSPITAL,
    downward,
    drug,
    event,
    monday,
    referral_request,
    resident_id,
    timetable,
)

HOSPITAL_STAFF = Actor("hospital-doctor", HOSPITAL)


def send_down(harness: HandlerHarness, cfg: ReferralConfig, clinic: str, **changes) -> str:
    body = downward("谢永红", resident_id(), *DRUGS, to_facility_id=clinic, **changes)
    created = request_referral(
        harness.uow(), cfg, referral_request(body), actor=HOSPITAL_STAFF, now=utc_now()
    )
    return created.referral_id


def accept(harness: HandlerHarness, cfg: ReferralConfig, rid: str, clinic: str) -> None:
    act(
        harness.uow(),
        cfg,
        rid,
        ActionRequest(Action.ACCEPT),
        actor=Actor("gp", clinic),
        now=utc_now(),
    )


def booking(harness: HandlerHarness, rid: str) -> str | None:
    with harness.database.sessions() as session:
        row = session.get(FollowUpBooking, rid)
        return row.session_id if row else None


def follow_ups(harness: HandlerHarness, rid: str) -> list[tuple[str, str]]:
    return [
        (e.type.split(".")[2], e.data.session_id)
        for e in harness.published()
        if e.subject == rid and "follow_up" in e.type
    ]


def entry(sid: str, day: date, specialty: str = "cardiology") -> TimetableEntry:
    return TimetableEntry(
        session_id=sid,
        staff_id="S-1",
        display_name="李医生",
        title=StaffTitle.CHIEF,
        specialty=specialty,
        date=day,
        half_day=HalfDay.AFTERNOON,
    )


def soon(days: int) -> date:
    return date.today() + timedelta(days=days)


def test_a_referral_waits_for_a_session_and_is_booked_when_the_timetable_brings_one(
    harness: HandlerHarness, cfg: ReferralConfig
) -> None:
    clinic = "QS-T04"
    rid = send_down(harness, cfg, clinic)
    accept(harness, cfg, rid, clinic)
    assert booking(harness, rid) is None  # no cardiology session at QS-T04 yet

    too_late = soon(30)  # the plan asks for a visit within 21 days
    week = timetable(
        clinic,
        monday(soon(6)),
        ("T04-NEUR", soon(6), HalfDay.MORNING, "neurology"),
        ("T04-CARD-LATE", too_late, HalfDay.MORNING, "Cardiology"),
        ("T04-CARD", soon(7), HalfDay.AFTERNOON, "Cardiology"),
    )
    published = event(week)
    harness.apply(published)
    assert booking(harness, rid) == "T04-CARD"
    harness.apply(published)  # redelivered: nothing more happens
    assert follow_ups(harness, rid) == [("follow_up_booked", "T04-CARD")]


def test_an_acceptance_and_its_timetable_arriving_at_once_still_book_the_follow_up(
    harness: HandlerHarness, cfg: ReferralConfig, module_db_kind: str
) -> None:
    """The acceptance looks for a session while the timetable's transaction, not yet
    committed, looks for accepted referrals: unless one waits for the other, neither sees
    the other's work and the follow-up is never booked (seen in CI under load)."""
    if module_db_kind != "postgresql":
        pytest.skip("SQLite has one writer at a time: the two transactions cannot interleave")
    clinic, day = "QS-T05", soon(6)
    rid = send_down(harness, cfg, clinic)
    week = event(timetable(clinic, monday(day), ("T05-CARD", day, HalfDay.MORNING, "cardiology")))
    uow = harness.uow()
    with uow:
        uow.cause = week
        record_timetable(week.data, uow)  # the consumer's transaction, open
        accepting = threading.Thread(target=accept, args=(harness, cfg, rid, clinic))
        accepting.start()
        accepting.join(timeout=1.0)
        assert accepting.is_alive(), "the acceptance did not wait for the timetable"
        uow.commit()
    accepting.join(timeout=30)
    assert booking(harness, rid) == "T05-CARD"


def test_a_cancelled_session_moves_its_bookings_and_old_news_never_wins(
    harness: HandlerHarness, cfg: ReferralConfig
) -> None:
    clinic = "QS-C01"
    first, second = soon(5), soon(9)
    published = event(
        timetable(
            clinic,
            monday(first),
            ("C01-A", first, HalfDay.MORNING, "cardiology"),
            ("C01-B", second, HalfDay.MORNING, "cardiology"),
        )
    )
    harness.apply(published)
    rid = send_down(harness, cfg, clinic)
    accept(harness, cfg, rid, clinic)
    assert booking(harness, rid) == "C01-A"

    cancelled = event(
        TimetableChanged(
            facility_id=clinic,
            week_start=monday(first),
            change=TimetableChange.CANCELLED,
            entry=entry("C01-A", first),
            reason="staff_ill",
            changed_at=utc_now(),
        )
    )
    harness.apply(cancelled)
    assert booking(harness, rid) == "C01-B"
    assert follow_ups(harness, rid) == [
        ("follow_up_booked", "C01-A"),
        ("follow_up_unbooked", "C01-A"),
        ("follow_up_booked", "C01-B"),
    ]
    unbooked = [
        e
        for e in harness.published()
        if e.type.endswith("follow_up_unbooked.v1") and e.subject == rid
    ]
    assert unbooked[0].data.reason_code == "session_cancelled"

    # The older publication arrives again (re-sent, a new event id): C01-A stays cancelled.
    harness.apply(event(published.data, time=published.time))
    assert booking(harness, rid) == "C01-B"
    assert len(follow_ups(harness, rid)) == 3
    later = send_down(harness, cfg, clinic)
    accept(harness, cfg, later, clinic)
    assert booking(harness, later) == "C01-B"


def test_a_republished_week_drops_missing_sessions_and_a_withdrawn_referral_frees_its_booking(
    harness: HandlerHarness, cfg: ReferralConfig
) -> None:
    clinic = "QS-C02"
    day = soon(4)
    harness.apply(
        event(timetable(clinic, monday(day), ("C02-X", day, HalfDay.MORNING, "cardiology")))
    )
    kept, withdrawn = send_down(harness, cfg, clinic), send_down(harness, cfg, clinic)
    for rid in (kept, withdrawn):
        accept(harness, cfg, rid, clinic)
    harness.apply(event(timetable(clinic, monday(day))))  # the week again, without C02-X
    assert booking(harness, kept) is None
    assert follow_ups(harness, kept)[-1] == ("follow_up_unbooked", "C02-X")

    harness.apply(
        event(timetable(clinic, monday(day), ("C02-Y", day, HalfDay.AFTERNOON, "cardiology")))
    )
    assert booking(harness, kept) == booking(harness, withdrawn) == "C02-Y"
    act(
        harness.uow(),
        cfg,
        withdrawn,
        ActionRequest(Action.CANCEL, reason_code="patient_declined"),
        actor=HOSPITAL_STAFF,
        now=utc_now(),
    )
    assert booking(harness, withdrawn) is None
    assert follow_ups(harness, withdrawn)[-1] == ("follow_up_unbooked", "C02-Y")


def test_the_formulary_copy_follows_pharmacy_and_gates_follow_up_medications(
    harness: HandlerHarness, cfg: ReferralConfig
) -> None:
    pharmacy = "/services/pharmacy"
    listed = event(drug("D-ATORVASTATIN"), source=pharmacy)
    harness.apply(listed)
    send_down(
        harness,
        cfg,
        "QS-C03",
        follow_up_plan={"medications": [{"drug_code": "D-ATORVASTATIN", "quantity": 1}]},
    )

    narrowed = drug("D-ATORVASTATIN", tiers=(FacilityTier.TERTIARY,))
    harness.apply(event(DrugUpdated(**narrowed.model_dump()), source=pharmacy))
    with pytest.raises(RuleViolation) as refused:
        send_down(
            harness,
            cfg,
            "QS-C03",
            follow_up_plan={"medications": [{"drug_code": "D-ATORVASTATIN", "quantity": 1}]},
        )
    assert refused.value.code == "drug_not_allowed"

    harness.apply(
        event(
            DrugDelisted(drug_code="D-ATORVASTATIN", reason="withdrawn", delisted_at=utc_now()),
            source=pharmacy,
        )
    )
    # The old listing, re-sent as a new event: it must not bring the drug back.
    harness.apply(event(listed.data, source=pharmacy, time=listed.time))
    with harness.database.sessions() as session:
        row = session.get(FormularyDrug, "D-ATORVASTATIN")
        assert row is not None
        assert row.listed is False
