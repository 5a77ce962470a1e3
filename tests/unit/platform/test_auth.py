"""Signed, expiring tokens with role and facility scope; key rotation."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest

from libs.platform.auth import (
    InvalidToken,
    Principal,
    Role,
    TokenAuthority,
    load_signing_keys,
    parse_keys,
    parse_ttl,
)

OLD = ("k0", b"o" * 40)
NEW = ("k1", b"n" * 40)


def test_a_minted_token_verifies_to_its_principal() -> None:
    authority = TokenAuthority([NEW], "test")
    principal = authority.verify(
        authority.mint(subject="nurse-li", role=Role.CLINIC_STAFF, facility_id="QS-T01")
    )
    assert (principal.subject, principal.role, principal.facility_id) == (
        "nurse-li",
        Role.CLINIC_STAFF,
        "QS-T01",
    )
    assert principal.can_act_for("QS-T01")
    assert not principal.can_act_for("QS-T02")


def test_central_roles_act_for_every_facility() -> None:
    authority = TokenAuthority([NEW], "test")
    admin = authority.verify(authority.mint(subject="a", role=Role.COUNTY_ADMIN))
    assert admin.facility_id is None
    assert admin.can_act_for("QS-T02")


def test_clinic_staff_tokens_must_name_a_facility() -> None:
    with pytest.raises(ValueError, match="facility"):
        TokenAuthority([NEW], "test").mint(subject="x", role=Role.CLINIC_STAFF)


def test_an_expired_token_is_refused() -> None:
    authority = TokenAuthority([NEW], "test")
    token = authority.mint(subject="x", role=Role.HR, ttl=timedelta(seconds=-1))
    with pytest.raises(InvalidToken, match="expired"):
        authority.verify(token)


def test_tampered_foreign_and_unsigned_tokens_are_refused() -> None:
    authority = TokenAuthority([NEW], "test")
    token = authority.mint(subject="x", role=Role.HR)
    header, claims, signature = token.split(".")
    forged_claims = jwt.utils.base64url_encode(
        jwt.utils.base64url_decode(claims).replace(b'"hr"', b'"county_admin"')
    ).decode()
    for bad in (
        f"{header}.{forged_claims}.{signature}",
        TokenAuthority([("k1", b"x" * 40)], "test").mint(subject="x", role=Role.HR),
        TokenAuthority([NEW], "other-issuer").mint(subject="x", role=Role.HR),
        jwt.encode({"sub": "x", "role": "hr"}, key="", algorithm="none"),
        "not a token",
    ):
        with pytest.raises(InvalidToken):
            authority.verify(bad)


def test_rotation_new_key_signs_old_key_still_verifies_until_removed() -> None:
    before = TokenAuthority([OLD], "test")
    issued_before = before.mint(subject="x", role=Role.HR)
    during = TokenAuthority([NEW, OLD], "test")
    assert during.verify(issued_before).subject == "x"
    issued_during = during.mint(subject="y", role=Role.HR)
    assert jwt.get_unverified_header(issued_during)["kid"] == "k1"
    after = TokenAuthority([NEW], "test")
    assert after.verify(issued_during).subject == "y"
    with pytest.raises(InvalidToken, match="unknown key"):
        after.verify(issued_before)


def test_short_secrets_are_refused() -> None:
    with pytest.raises(ValueError, match="shorter"):
        TokenAuthority([("k", b"short")], "test")


def test_keys_come_from_the_environment_or_a_development_file(tmp_path: Path) -> None:
    assert parse_keys("a:" + "s" * 40 + ", b:" + "t" * 40) == [("a", b"s" * 40), ("b", b"t" * 40)]
    generated = load_signing_keys("", tmp_path, production=False)
    assert load_signing_keys("", tmp_path, production=False) == generated  # shared, stable
    with pytest.raises(ValueError, match="required in production"):
        load_signing_keys("", tmp_path, production=True)


def test_ttls_parse() -> None:
    assert parse_ttl("30m") == timedelta(minutes=30)
    assert parse_ttl("8h") == timedelta(hours=8)
    with pytest.raises(ValueError, match="TTL"):
        parse_ttl("forever")


def test_clinic_staff_act_for_their_own_facility_only_and_central_roles_for_every_member() -> None:
    clinic = Principal("s", Role.CLINIC_STAFF, "QS-T01", "t")
    assert clinic.can_act_for("QS-T01") and not clinic.can_act_for("QS-T02")
    assert not Principal("s", Role.CLINIC_STAFF, None, "t").can_act_for("QS-T01")
    assert Principal("s", Role.HR, None, "t").can_act_for("QS-T02")


def test_a_verified_token_is_remembered_only_until_its_expiry(monkeypatch) -> None:
    authority = TokenAuthority([NEW], "test")
    token = authority.mint(subject="x", role=Role.HR, ttl=timedelta(seconds=60))
    first = authority.verify(token)
    checks: list[str] = []
    decode = jwt.decode

    def counting_decode(*a: Any, **k: Any) -> Any:
        checks.append("decoded")
        return decode(*a, **k)

    monkeypatch.setattr(jwt, "decode", counting_decode)
    assert authority.verify(token) is first  # from the cache: not decoded again
    assert checks == []
    exp = jwt.decode(token, options={"verify_signature": False})["exp"]
    checks.clear()
    monkeypatch.setattr("libs.platform.auth.time.time", lambda: exp + 1.0)
    monkeypatch.setattr(
        jwt, "decode", lambda *a, **k: (_ for _ in ()).throw(jwt.ExpiredSignatureError("expired"))
    )
    with pytest.raises(InvalidToken, match="expired"):
        authority.verify(token)  # past its expiry the cache no longer answers


def test_the_verified_token_cache_is_bounded_and_keeps_no_refused_token(monkeypatch) -> None:
    monkeypatch.setattr("libs.platform.auth.VERIFIED_CACHE_SIZE", 3)
    authority = TokenAuthority([NEW], "test")
    tokens = [authority.mint(subject=f"s{i}", role=Role.HR) for i in range(5)]
    for token in tokens:
        authority.verify(token)
    assert list(authority._verified) == tokens[2:]
    with pytest.raises(InvalidToken):
        authority.verify(tokens[0][:-2] + "xx")
    assert len(authority._verified) == 3
