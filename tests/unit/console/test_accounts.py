"""The rules an account keeps, and when a sign-in may be tried (pure domain)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from libs.platform.auth import Role
from services.console.domain.accounts import (
    AccountRefused,
    AccountTerms,
    check_password,
    check_terms,
)
from services.console.domain.sign_in import SessionTerms, SignInLimits, refusal


def test_clinic_staff_act_for_exactly_one_known_facility() -> None:
    with pytest.raises(AccountRefused, match="所属机构"):
        check_terms(AccountTerms("desk01", "周护士", Role.CLINIC_STAFF, None), known_facility=True)
    with pytest.raises(AccountRefused, match="未知机构"):
        check_terms(AccountTerms("desk01", "周护士", Role.CLINIC_STAFF, "X"), known_facility=False)
    terms = check_terms(
        AccountTerms("desk01", " 周护士 ", Role.CLINIC_STAFF, "QS-T01"), known_facility=True
    )
    assert terms.display_name == "周护士" and terms.facility_id == "QS-T01"


def test_a_central_role_may_act_for_the_whole_county() -> None:
    terms = check_terms(
        AccountTerms("admin", "王主任", Role.COUNTY_ADMIN, " "), known_facility=True
    )
    assert terms.facility_id is None


@pytest.mark.parametrize("username", ["ab", "Admin", "1admin", "a" * 33, "ad min", "管理员"])
def test_usernames_are_short_lowercase_words(username: str) -> None:
    with pytest.raises(AccountRefused, match="用户名"):
        check_terms(AccountTerms(username, "x", Role.HR, None), known_facility=True)


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("short-1", "10–128"),
        ("onlyletterspassword", "至少两类"),
        ("12345678901", "至少两类"),
        ("zhou-desk-2026", "用户名"),
        ("x" * 129 + "1", "10–128"),
    ],
)
def test_a_password_must_resist_a_guess(password: str, why: str) -> None:
    with pytest.raises(AccountRefused, match=why):
        check_password(password, username="desk")


def test_a_good_password_passes() -> None:
    check_password("east-lake-2026", username="donghu")
    check_password("青山县卫生院2026", username="donghu")


LIMITS = SignInLimits(per_account=5, per_client=30, window=timedelta(minutes=15))


def test_an_account_is_locked_after_its_failures_and_an_address_after_its_own() -> None:
    assert refusal(LIMITS, account_failures=4, client_failures=29) is None
    assert "该账户" in (refusal(LIMITS, account_failures=5, client_failures=0) or "")
    assert "本机" in (refusal(LIMITS, account_failures=0, client_failures=30) or "")
    assert "15 分钟" in (refusal(LIMITS, account_failures=5, client_failures=0) or "")


def test_a_session_ends_when_idle_or_older_than_a_shift() -> None:
    terms = SessionTerms(idle=timedelta(minutes=30), absolute=timedelta(hours=12))
    start = datetime(2026, 12, 3, 1, 0, tzinfo=UTC)
    assert terms.live(created_at=start, last_seen_at=start, now=start + timedelta(minutes=29))
    assert not terms.live(created_at=start, last_seen_at=start, now=start + timedelta(minutes=30))
    busy = start + timedelta(hours=12)
    assert not terms.live(created_at=start, last_seen_at=busy, now=busy + timedelta(minutes=1))


def test_the_committee_looks_at_the_half_years_that_have_ended() -> None:
    from datetime import date

    from services.console.domain.appraisal_board import half_years, last_ended

    assert last_ended(date(2026, 12, 3)) == "2026-H1"
    assert last_ended(date(2026, 3, 1)) == "2025-H2"
    assert half_years(date(2026, 7, 1)) == ["2026-H1", "2025-H2", "2025-H1", "2024-H2"]
