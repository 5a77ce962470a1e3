"""Patient-data encryption, follow-up session choice, capacity arithmetic."""

from __future__ import annotations

import base64
from datetime import date
from pathlib import Path

import pytest

from libs.events.catalogue.values import HalfDay
from services.referral.adapters.crypto import (
    PatientDataCipher,
    load_patient_keys,
    parse_patient_keys,
)
from services.referral.domain.capacity import CapacityKind, DayCapacity, earliest_free_day
from services.referral.domain.follow_up import SpecialistSession, pick_session

KEY_A = "a:" + base64.urlsafe_b64encode(b"A" * 32).decode()
KEY_B = "b:" + base64.b64encode(b"B" * 32).decode()


def test_patient_data_is_sealed_to_its_row_and_column() -> None:
    cipher = PatientDataCipher(parse_patient_keys(KEY_A))
    sealed = cipher.encrypt("王秀英", row="RF-1", column="patient_name")
    assert "王秀英".encode() not in sealed
    assert cipher.decrypt(sealed, row="RF-1", column="patient_name") == "王秀英"
    assert cipher.encrypt("王秀英", row="RF-1", column="patient_name") != sealed  # fresh nonce
    for row, column in [("RF-2", "patient_name"), ("RF-1", "patient_national_id")]:
        with pytest.raises(ValueError, match="does not decrypt") as error:
            cipher.decrypt(sealed, row=row, column=column)
        assert "王秀英" not in str(error.value)


def test_keys_rotate_the_first_encrypts_all_decrypt() -> None:
    old = PatientDataCipher(parse_patient_keys(KEY_A))
    sealed_with_a = old.encrypt("11010519491231002X", row="RF-1", column="patient_national_id")
    rotated = PatientDataCipher(parse_patient_keys(f"{KEY_B},{KEY_A}"))
    assert rotated.decrypt(sealed_with_a, row="RF-1", column="patient_national_id").endswith("02X")
    assert rotated.encrypt("x", row="RF-1", column="c").startswith(b"b:")
    with pytest.raises(ValueError, match="unknown key"):
        PatientDataCipher(parse_patient_keys(KEY_B)).decrypt(sealed_with_a, row="RF-1", column="c")


def test_key_settings(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        PatientDataCipher(parse_patient_keys("k:" + base64.b64encode(b"short").decode()))
    with pytest.raises(ValueError, match="kid:base64key"):
        parse_patient_keys("no-separator")
    with pytest.raises(ValueError, match="required in production"):
        load_patient_keys("", tmp_path, production=True)
    generated = load_patient_keys("", tmp_path, production=False)
    assert load_patient_keys("", tmp_path, production=False) == generated  # kept in DATA_DIR
    assert len(generated[0][1]) == 32
    assert (tmp_path / "referral-patient-keys").stat().st_mode & 0o077 == 0


def session(sid: str, day: int, half: HalfDay = HalfDay.MORNING, specialty: str = "cardiology"):
    return SpecialistSession(sid, date(2026, 11, day), half, specialty)


def test_the_earliest_fitting_session_of_the_specialty_is_chosen() -> None:
    sessions = [
        session("S5", 5),
        session("S9a", 9, HalfDay.AFTERNOON),
        session("S9m", 9),
        session("N9", 9, specialty="neurology"),
        session("S30", 30),
    ]
    pick = pick_session(
        sessions, specialty=" Cardiology ", after=date(2026, 11, 5), until=date(2026, 11, 26)
    )
    assert pick is not None
    assert pick.session_id == "S9m"
    assert (
        pick_session(
            sessions, specialty="cardiology", after=date(2026, 11, 9), until=date(2026, 11, 26)
        )
        is None
    )
    assert (
        pick_session(
            sessions, specialty="dermatology", after=date(2026, 11, 1), until=date(2026, 11, 30)
        )
        is None
    )


def test_free_capacity_and_the_earliest_free_day() -> None:
    full = DayCapacity(date(2026, 11, 3), slots=2, beds=1, held_slots=2, held_beds=0)
    later = DayCapacity(date(2026, 11, 4), slots=1, beds=0)
    overbooked = DayCapacity(date(2026, 11, 5), slots=0, beds=1, held_beds=3)
    assert full.free(CapacityKind.SLOT) == 0
    assert full.free(CapacityKind.BED) == 1
    assert overbooked.free(CapacityKind.BED) == 0
    days = [full, later, overbooked]
    start, end = date(2026, 11, 3), date(2026, 11, 10)
    assert earliest_free_day(days, CapacityKind.SLOT, start=start, end=end) == date(2026, 11, 4)
    assert earliest_free_day(days, CapacityKind.BED, start=start, end=end) == date(2026, 11, 3)
    assert earliest_free_day(days, CapacityKind.SLOT, start=date(2026, 11, 5), end=end) is None


def test_the_service_refuses_weak_or_missing_secrets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("PSEUDONYM_SECRET", "REFERRAL_PATIENT_DATA_KEYS", "ENVIRONMENT"):
        monkeypatch.delenv(name, raising=False)
    from libs.events.pseudonym import DEVELOPMENT_PSEUDONYM_SECRET
    from libs.platform.settings import PlatformSettings
    from services.referral.config import load_config
    from services.referral.settings import Settings

    development = load_config(PlatformSettings(data_dir=tmp_path), Settings())
    assert development.development_secret
    assert development.pseudonym_secret == DEVELOPMENT_PSEUDONYM_SECRET
    with pytest.raises(ValueError, match="at least 16 bytes"):
        load_config(PlatformSettings(data_dir=tmp_path, pseudonym_secret="short"), Settings())
    production = PlatformSettings(
        environment="production",
        auth_keys="k:" + "s" * 40,
        pseudonym_secret="p" * 32,
        kafka_security_protocol="SASL_PLAINTEXT",
        kafka_sasl_username="referral",
        kafka_sasl_password="x" * 24,
        data_dir=tmp_path,
    )
    with pytest.raises(ValueError, match="REFERRAL_PATIENT_DATA_KEYS is required"):
        load_config(production, Settings())
    configured = load_config(production, Settings(patient_data_keys=KEY_A))
    assert not configured.development_secret
