"""Signing in: the session cookie, the wrong password, the limits, the form tokens, signing
out and the end of a session."""

from __future__ import annotations

from sqlalchemy import select

from libs.platform.worker import ServiceProcess
from services.console.adapters.schema import SessionRow
from services.console.service_layer.sessions import digest
from services.console.service_layer.unit_of_work import console_uow
from tests.integration.console.conftest import Browser, field


def test_a_page_sends_a_stranger_to_sign_in_and_back(browser: Browser) -> None:
    answer = browser.client.get("/referrals")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/sign-in?next=/referrals"
    assert browser.sign_in("hospital", next="/referrals") == 303


def test_the_session_cookie_is_httponly_samesite_and_never_stored_plain(
    browser: Browser, console: ServiceProcess
) -> None:
    form = browser.client.get("/sign-in")
    answer = browser.client.post(
        "/sign-in",
        data={"username": "admin", "password": "county-centre-2026",
              "form_token": field(form.text, "form_token"), "next": "/accounts"},
    )  # fmt: skip
    assert answer.status_code == 303 and answer.headers["location"] == "/accounts"
    cookie = next(c for c in answer.headers.get_list("set-cookie") if "console_session=" in c)
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    token = cookie.split("console_session=")[1].split(";")[0]
    with console_uow(console.unit_of_work()) as uow:
        stored = list(uow.session.scalars(select(SessionRow.digest)))
        account = uow.accounts.get("admin")
        assert account is not None and account.password_hash.startswith("$argon2id$")
    assert token not in stored and digest(token) in stored
    assert browser.client.get("/accounts").status_code == 200


def test_a_wrong_password_says_so_without_saying_which_half(browser: Browser) -> None:
    form = browser.client.get("/sign-in")
    answer = browser.client.post(
        "/sign-in",
        data={"username": "nobody-here", "password": "whatever-2026",
              "form_token": field(form.text, "form_token")},
    )  # fmt: skip
    assert answer.status_code == 401 and "用户名或密码错误" in answer.text
    assert browser.sign_in("pharmacy", "wrong-password-1") == 401


def test_an_account_is_locked_after_five_failures_even_for_the_right_password(
    make_browser: type[Browser], console: ServiceProcess
) -> None:
    guesser = make_browser(console)
    for _ in range(5):
        assert guesser.sign_in("xishan", "guess-number-1") == 401
    someone = make_browser(console)
    form = someone.client.get("/sign-in")
    answer = someone.client.post(
        "/sign-in",
        data={"username": "xishan", "password": "west-hill-2026",
              "form_token": field(form.text, "form_token")},
    )  # fmt: skip
    assert answer.status_code == 401 and "次数过多" in answer.text
    with console_uow(console.unit_of_work()) as uow:
        outcomes = [a.outcome for a in uow.sign_ins.recent() if a.username == "xishan"]
    assert outcomes[:1] == ["locked"] and outcomes.count("refused") == 5


def test_a_form_without_its_token_is_refused(browser: Browser) -> None:
    answer = browser.client.post(
        "/sign-in", data={"username": "admin", "password": "county-centre-2026",
                          "form_token": "forged"},
    )  # fmt: skip
    assert answer.status_code == 401 and "已过期" in answer.text
    assert browser.sign_in("admin") == 303
    refused = browser.client.post("/sign-out", data={"csrf_token": "forged"})
    assert refused.status_code == 403
    assert browser.client.get("/").status_code == 200  # still signed in


def test_signing_out_ends_the_session(browser: Browser) -> None:
    assert browser.sign_in("donghu") == 303
    answer = browser.client.post("/sign-out", data={"csrf_token": browser.csrf()})
    assert answer.status_code == 303 and answer.headers["location"] == "/sign-in"
    assert browser.client.get("/").status_code == 303


def test_the_sign_in_never_sends_a_person_to_another_site(browser: Browser) -> None:
    form = browser.client.get("/sign-in?next=//evil.example/x")
    assert 'name="next" value="/"' in form.text
    answer = browser.client.post(
        "/sign-in",
        data={"username": "admin", "password": "county-centre-2026",
              "form_token": field(form.text, "form_token"), "next": "https://evil.example"},
    )  # fmt: skip
    assert answer.headers["location"] == "/"


def test_metrics_count_accounts_sessions_and_refusals(browser: Browser) -> None:
    browser.sign_in("hospital")
    browser.sign_in("hospital", "not-the-password-1")
    text = browser.client.get("/metrics").text
    assert 'console_accounts{active="true",role="clinic_staff"}' in text
    assert "console_sessions_open" in text
    assert 'console_sign_ins_last_hour{outcome="refused"}' in text
