"""Building blocks of the referral service's tests: patients, the seed organisation, drugs,
timetables, request bodies, and a configuration with known secrets."""

from __future__ import annotations

import base64
import itertools
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from libs.events import CloudEvent, Payload, new_event
from libs.events.catalogue.organisation import FacilityRegistered
from libs.events.catalogue.pharmacy import DrugListed
from libs.events.catalogue.staffing import TimetableEntry, TimetablePublished
from libs.events.catalogue.values import FacilityTier, HalfDay, StaffTitle
from libs.events.provenance import producer_source
from libs.platform.database import Database
from libs.platform.settings import REPO_ROOT, PlatformSettings
from services.administration.domain.organisation import parse_county
from services.referral.api.schemas import ReferralIn
from services.referral.config import ReferralConfig, load_config
from services.referral.domain.patient import PatientIdentity
from services.referral.service_layer.requests import ReferralRequest
from services.referral.settings import Settings

__all__ = [
    "CARDIOLOGY",
    "CLINIC",
    "HOSPITAL",
    "NEUROLOGY",
    "OTHER_CLINIC",
    "PATIENT_DATA_KEYS",
    "PSEUDONYM_SECRET",
    "at_once",
    "chest_pain",
    "config",
    "downward",
    "drug",
    "event",
    "monday",
    "referral_request",
    "resident_id",
    "seed_organisation",
    "timetable",
    "upward",
]

#: The county secret the tests' referral processes run with.
PSEUDONYM_SECRET = "test-county-pseudonym-secret-0123456789"
PATIENT_DATA_KEYS = "t1:" + base64.urlsafe_b64encode(b"k" * 32).decode()

HOSPITAL, CARDIOLOGY, NEUROLOGY = "QS-H01", "QS-H01-CARD", "QS-H01-NEUR"
CLINIC, OTHER_CLINIC = "QS-T01", "QS-T02"

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_serial = itertools.count(1)


def resident_id(sequence: int | None = None, born: str = "19580314", area: str = "320412") -> str:
    """A well-formed resident identity number (valid check digit), distinct per call."""
    n = next(_serial) if sequence is None else sequence
    body = f"{area}{born}{n % 1000:03d}"
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, _WEIGHTS, strict=True)) % 11]


def config(data_dir: Path, **settings: Any) -> ReferralConfig:
    """The service's configuration as a process would load it, with the tests' secrets."""
    platform = PlatformSettings(pseudonym_secret=PSEUDONYM_SECRET, data_dir=data_dir)
    return load_config(platform, Settings(patient_data_keys=PATIENT_DATA_KEYS, **settings))


def event(payload: Payload, *, source: str | None = None, **kwargs: Any) -> CloudEvent[Any]:
    """``payload`` as its producer publishes it (another ``source`` forges it)."""
    return new_event(payload, source=source or producer_source(payload), **kwargs)


def seed_organisation() -> list[CloudEvent[Any]]:
    """The seed county's communities and facilities as administration publishes them."""
    doc = yaml.safe_load((REPO_ROOT / "infra" / "county" / "seed-county.yaml").read_text("utf-8"))
    county = parse_county(doc)
    communities: list[Payload] = list(county.communities)
    facilities: list[Payload] = [FacilityRegistered(**f.model_dump()) for f in county.facilities]
    return [event(p) for p in communities + facilities]


def drug(code: str, *, tiers: tuple[FacilityTier, ...] = tuple(FacilityTier)) -> DrugListed:
    return DrugListed(
        drug_code=code,
        name=f"药品{code}",
        dosage_form="片剂",
        strength="10mg",
        pack_size=28,
        unit="盒",
        unit_price=Decimal("12.5000"),
        essential=True,
        tcm=False,
        allowed_tiers=list(tiers),
    )


def timetable(
    facility_id: str, week_start: date, *sessions: tuple[str, date, HalfDay, str]
) -> TimetablePublished:
    """A published week: ``(session_id, date, half_day, specialty)`` per session."""
    return TimetablePublished(
        facility_id=facility_id,
        week_start=week_start,
        entries=[
            TimetableEntry(
                session_id=sid,
                staff_id=f"S-{sid}",
                display_name="李医生",
                title=StaffTitle.ASSOCIATE_CHIEF,
                specialty=specialty,
                date=day,
                half_day=half,
            )
            for sid, day, half, specialty in sessions
        ],
        published_at=datetime(2026, 11, 20, 8, 0, tzinfo=UTC),
    )


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def upward(name: str, national_id: str, **changes: Any) -> dict[str, Any]:
    """A request body: an urgent upward referral from the township centre to cardiology."""
    body: dict[str, Any] = {
        "direction": "up",
        "priority": "urgent",
        "from_facility_id": CLINIC,
        "to_facility_id": HOSPITAL,
        "to_department_id": CARDIOLOGY,
        "patient": {"name": name, "national_id": national_id},
        "reason_code": "needs_specialist",
        "diagnosis_codes": ["I20.0"],
        "clinical_note": f"{name} 胸闷三天",
    }
    body.update(changes)
    return body


def chest_pain(name: str, national_id: str, **changes: Any) -> dict[str, Any]:
    """An emergency chest-pain (green channel) referral up to cardiology."""
    return upward(
        name,
        national_id,
        priority="emergency",
        green_channel="chest_pain",
        reason_code="green_channel",
        diagnosis_codes=["I21.9"],
        needs_bed=True,
        **changes,
    )


def downward(name: str, national_id: str, *drugs: str, **changes: Any) -> dict[str, Any]:
    """A routine downward referral from cardiology back to the township centre with a plan."""
    body: dict[str, Any] = {
        "direction": "down",
        "priority": "routine",
        "from_facility_id": HOSPITAL,
        "from_department_id": CARDIOLOGY,
        "to_facility_id": CLINIC,
        "patient": {"name": name, "national_id": national_id},
        "reason_code": "chronic_management",
        "diagnosis_codes": ["I10", "E11.9"],
        "follow_up_plan": {
            "medications": [
                {"drug_code": code, "quantity": 2 + i, "days_supply": 30}
                for i, code in enumerate(drugs)
            ],
            "follow_up_within_days": 21,
        },
    }
    body.update(changes)
    return body


def referral_request(body: dict[str, Any]) -> ReferralRequest:
    """A request body (as the API takes it) as the use case's input."""
    parsed = ReferralIn.model_validate(body)
    return ReferralRequest(
        direction=parsed.direction,
        priority=parsed.priority,
        green_channel=parsed.green_channel,
        from_facility_id=parsed.from_facility_id,
        from_department_id=parsed.from_department_id,
        to_facility_id=parsed.to_facility_id,
        to_department_id=parsed.to_department_id,
        patient=PatientIdentity(parsed.patient.name, parsed.patient.national_id),
        reason_code=parsed.reason_code,
        diagnosis_codes=list(parsed.diagnosis_codes),
        needs_bed=parsed.needs_bed,
        clinical_note=parsed.clinical_note,
        follow_up_plan=parsed.follow_up_plan,
        requested_at=parsed.requested_at,
    )


def at_once(databases: list[Database], job: Callable[[Database], None]) -> list[BaseException]:
    """Run ``job`` on each database from its own thread, all released at the same moment."""
    start, errors = threading.Barrier(len(databases)), []

    def run(database: Database) -> None:
        try:
            start.wait(30)
            job(database)
        except BaseException as exc:  # returned to the test
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(db,)) for db in databases]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return errors
