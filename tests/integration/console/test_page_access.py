"""Who opens which page: every console page needs a session; each workbench only for the
roles it serves; a clinic's staff see only their own facility's board, by the menu and by
the URL. (The bearer-token matrices in tests/integration/platform leave these pages out.)"""

from __future__ import annotations

import pytest

from libs.platform.worker import ServiceProcess
from tests.integration.console.conftest import Browser
from tests.support.routes import _contexts, browser_page

PUBLIC = {"/sign-in", "/static/{name}"}


def test_every_page_but_the_sign_in_needs_a_session(console: ServiceProcess) -> None:
    browser = Browser(console)
    pages = [c for c in _contexts(browser.client.app) if browser_page(c)]  # type: ignore[arg-type]
    assert len(pages) >= 8
    for page in pages:
        if page.path in PUBLIC:
            continue
        for method in page.methods:
            path = page.path.replace("{referral_id}", "R1").replace("{action}", "accept")
            path = path.replace("{username}", "admin").replace("{fmt}", "csv")
            path = path.replace("{transfer_id}", "T1").replace("{step}", "approve")
            path = path.replace("{facility_id}", "QS-T01").replace("{prescription_id}", "RX1")
            path = path.replace("{decision}", "release").replace("{period}", "2026-H1")
            path = path.replace("{month}", "2026-10")
            answer = browser.client.request(method, path, data={"csrf_token": "x"})
            assert answer.status_code == 303, (method, path, answer.status_code)
            assert answer.headers["location"].startswith("/sign-in")


@pytest.mark.parametrize(
    ("username", "page", "status"),
    [
        ("donghu", "/accounts", 403),
        ("pharmacy", "/referrals", 403),
        ("admin", "/accounts", 200),
        ("donghu", "/referrals?facility_id=QS-H01", 403),
        ("donghu", "/pharmacy?facility_id=QS-H01", 403),
        ("finance", "/pharmacy", 403),
        ("donghu", "/review", 403),
        ("pharmacy", "/appraisal", 403),
        ("donghu", "/finance?facility_id=QS-H01", 403),
        ("hospital", "/finance?facility_id=QS-T01", 403),
        ("donghu", "/finance/journal?facility_id=QS-H01", 403),
        ("donghu", "/finance/periods", 403),
        ("donghu", "/review/audits/2026-10", 403),
        ("donghu", "/staffing/staff/S-H01-006", 403),
        ("donghu", "/appraisal/2026-H1/members/QS-H01", 403),
        ("pharmacy", "/operations", 403),
        ("donghu", "/operations/dead-letters/quality/ingestion.prescription.dlt/0/0", 403),
    ],
)
def test_a_workbench_opens_only_for_its_roles(
    console: ServiceProcess, username: str, page: str, status: int
) -> None:
    browser = Browser(console)
    assert browser.sign_in(username) == 303
    answer = browser.client.get(page)
    assert answer.status_code == status, answer.text[:500]
    if status == 403:
        assert "无权" in answer.text or "只能查看本机构" in answer.text


def test_the_menu_shows_only_the_workbenches_of_the_role(console: ServiceProcess) -> None:
    clinic, admin = Browser(console), Browser(console)
    clinic.sign_in("donghu")
    admin.sign_in("admin")
    assert 'href="/accounts"' not in clinic.client.get("/").text
    assert 'href="/accounts"' in admin.client.get("/").text


def test_pages_refuse_being_framed_and_foreign_scripts(browser: Browser) -> None:
    answer = browser.client.get("/sign-in")
    policy = answer.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert answer.headers["x-frame-options"] == "DENY"
    assert browser.client.get("/static/console.js").status_code == 200
    assert browser.client.get("/static/..%2Fsettings.py").status_code == 404
