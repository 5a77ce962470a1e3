"""The console in a real headless Chromium against running services (administration,
staffing, referral, pharmacy, quality, finance, reporting and the console itself, on the
real broker and databases): each workbench's people sign in and do their work there, and the
owning service holds the outcome; a clinic cannot see another's; an administrator corrects
and replays a dead letter; the pages pass an accessibility check and log no error. The
screenshots in docs/console.md are taken here.
"""

from __future__ import annotations

import codecs
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from selenium.common.exceptions import (
    NoSuchElementException,
    StaleElementReferenceException,
    TimeoutException,
)
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from libs.events import encode, new_event
from libs.events.catalogue.ingestion import PrescriptionIssued, PrescriptionLine
from libs.events.catalogue.values import FacilityTier, PrescriptionCategory
from libs.events.envelope import utc_now
from libs.platform.auth import Role
from libs.platform.settings import REPO_ROOT
from services.console.domain import finance_board
from services.console.domain.months import ended_months
from tests.conftest import Suite
from tests.integration.console.conftest import PASSWORDS
from tests.support.accessibility import axe_violations
from tests.support.browser import Chromium, find_or_install_chromium, headless_chromium
from tests.support.county_time import county_today
from tests.support.kafka import produce, wait_for
from tests.support.referral import (
    CLINIC,
    HOSPITAL,
    PATIENT_DATA_KEYS,
    PSEUDONYM_SECRET,
    chest_pain,
    resident_id,
    upward,
)
from tests.support.services import ServiceHandle

pytestmark = pytest.mark.e2e

ENV = {"PSEUDONYM_SECRET": PSEUDONYM_SECRET, "REFERRAL_PATIENT_DATA_KEYS": PATIENT_DATA_KEYS,
       "CONSOLE_REFRESH_SECONDS": "2"}  # fmt: skip
SHOTS = REPO_ROOT / "docs" / "console"


@dataclass
class Running:
    bootstrap: str
    referral: ServiceHandle
    pharmacy: ServiceHandle
    quality: ServiceHandle
    staffing: ServiceHandle
    console: ServiceHandle
    finance: ServiceHandle
    administration: ServiceHandle

    def refer(self, body: dict[str, Any]) -> str:
        with self.referral.client(Role.CLINIC_STAFF, CLINIC) as clinic:
            created = clinic.post("/referrals", json=body)
        assert created.status_code == 201, created.text
        return str(created.json()["referral_id"])


@pytest.fixture(scope="module")
def running(module_suite: Suite) -> Running:
    started = module_suite.start(
        "administration", "staffing", "referral", "pharmacy", "quality", "finance", "reporting",
        env=ENV,
    )  # fmt: skip
    urls = {name: handle.url for name, handle in started.items()}
    env = {**ENV, "CONSOLE_SERVICE_URLS": json.dumps(urls)}
    console = module_suite.start("console", env=env)["console"]
    wait_for(
        lambda: (
            len(console.get_json("/directory/facilities")) >= 20
            and len(started["referral"].get_json("/directory/facilities")) >= 20
        ),
        what="the console's and the referral service's copies of the county",
    )
    with started["referral"].client(Role.CLINIC_STAFF, HOSPITAL) as desk:  # room for routines
        for ahead in (1, 2, 3):
            day = (county_today() + timedelta(days=ahead)).isoformat()
            put = desk.put(f"/capacity/{HOSPITAL}/QS-H01-CARD/{day}", json={"slots": 20, "beds": 0})
            assert put.status_code == 200, put.text
    quality = started["quality"]
    wait_for(lambda: consumed(quality, "staffing.staff") >= 48, what="quality's prescribers")
    return Running(
        module_suite.bootstrap,
        started["referral"],
        started["pharmacy"],
        quality,
        started["staffing"],
        console,
        started["finance"],
        started["administration"],
    )


def consumed(service: ServiceHandle, topic: str) -> float:
    return service.metric(f"{service.name}_events_consumed_total", topic=topic, outcome="applied")


@pytest.fixture(scope="module")
def chromium() -> Chromium:
    return find_or_install_chromium()


@pytest.fixture
def browser(chromium: Chromium) -> Iterator[Any]:
    with headless_chromium(chromium) as driver:
        yield driver
        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert errors == [], errors  # no page logged an error


def sign_in(driver: Any, running: Running, username: str, page: str = "/") -> None:
    driver.get(f"{running.console.url}/sign-in?next={quote(page, safe='/')}")
    driver.find_element(By.ID, "username").send_keys(username)
    driver.find_element(By.ID, "password").send_keys(PASSWORDS[username])
    driver.find_element(By.ID, "sign-in").click()
    until(
        driver,
        lambda d: (
            "/sign-in" not in d.current_url
            and d.execute_script("return document.readyState") == "complete"
        ),
    )


def sign_out(driver: Any) -> None:
    """Sign out and wait for the sign-in page: a navigation begun before it finished could
    land after the next sign-in page and send that form without its ``next``."""
    driver.find_element(By.CSS_SELECTOR, "form[action='/sign-out'] button").click()
    until(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "form[action='/sign-in']"))


def until(driver: Any, predicate: Any, timeout_s: float = 20) -> Any:
    """Wait for ``predicate``; an element from the page before a navigation is asked again."""
    quiet = (StaleElementReferenceException, NoSuchElementException)
    return WebDriverWait(driver, timeout_s, ignored_exceptions=quiet).until(predicate)


def click(driver: Any, selector: str) -> bool:
    """Click what ``selector`` finds now (a refreshed row is found again by ``until``)."""
    driver.find_element(By.CSS_SELECTOR, selector).click()
    return True


def shot(driver: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SHOTS / f"{name}.png"))


def state_of(running: Running, referral_id: str) -> str:
    with running.referral.client(Role.CLINIC_STAFF, HOSPITAL) as desk:
        return str(desk.get(f"/referrals/{referral_id}").json()["state"])


def test_a_referral_desk_accepts_a_green_channel_referral(running: Running, browser: Any) -> None:
    routine = running.refer(upward("夏侯明", resident_id()))
    green = running.refer(chest_pain("上官云", resident_id(), to_department_id="QS-H01-EMER"))
    sign_in(browser, running, "hospital", "/referrals")
    order = until(
        browser,
        lambda d: [
            r.get_attribute("id")
            for r in d.find_elements(By.CSS_SELECTOR, "#board-rows tr[id^='referral-']")
        ],
    )
    assert order.index(f"referral-{green}") < order.index(f"referral-{routine}")  # green first
    # The live board replaces its rows every 2 s: each element is looked up when it is used.
    assert until(browser, lambda d: "胸痛" in d.find_element(By.ID, f"referral-{green}").text)
    assert until(
        browser,
        lambda d: (
            "green" in (d.find_element(By.ID, f"referral-{green}").get_attribute("class") or "")
        ),
    )
    shot(browser, "referrals")
    until(browser, lambda d: click(d, f"#referral-{green} button[data-action='accept']"))
    until(
        browser,
        lambda d: (
            d.find_element(By.ID, f"referral-{green}").get_attribute("data-state") == "accepted"
        ),
    )
    assert state_of(running, green) == "accepted"  # the referral service holds it


def test_the_board_shows_a_new_referral_without_a_reload(running: Running, browser: Any) -> None:
    sign_in(browser, running, "hospital", "/referrals")
    browser.execute_script("window.stillTheSamePage = true;")
    began = time.monotonic()
    arrived = running.refer(upward("诸葛兰", resident_id()))
    WebDriverWait(browser, 30, poll_frequency=0.2).until(
        lambda d: d.find_elements(By.ID, f"referral-{arrived}")
    )
    seen_after = time.monotonic() - began
    assert browser.execute_script("return window.stillTheSamePage === true;")
    print(f"console: a new referral reached the open board after {seen_after:.1f} s")
    assert seen_after < 15


def on_hand(running: Running, facility: str, drug: str) -> int:
    with running.pharmacy.client(Role.PHARMACY_CENTRE) as centre:
        found = centre.get(f"/stock/{facility}/drugs/{drug}")
    return sum(lot["on_hand"] for lot in found.json()["lots"]) if found.status_code == 200 else 0


def new_drug_at_the_hospital(running: Running, quantity: int) -> str:
    drug = f"C-{uuid.uuid4().hex[:6].upper()}"
    listed = {"drug_code": drug, "name": f"氨氯地平片{drug}", "dosage_form": "片剂",
              "strength": "5mg", "pack_size": 28, "unit": "盒", "unit_price": "17.6000",
              "essential": True, "tcm": False,
              "allowed_tiers": ["primary", "secondary", "tertiary"]}  # fmt: skip
    expiry = (county_today() + timedelta(days=400)).isoformat()
    lot = {"drug_code": drug, "lot_number": "L1", "expiry_date": expiry, "quantity": quantity}
    with running.pharmacy.client(Role.PHARMACY_CENTRE) as centre:
        assert centre.post("/formulary/drugs", json=listed).status_code == 201
        assert centre.post(f"/stock/{HOSPITAL}/receipts", json=lot).status_code == 201
    return drug


def take_step(driver: Any, transfer: str, step: str, then: str) -> None:
    until(driver, lambda d: click(d, f"#transfer-{transfer} button[data-step='{step}']"))
    until(
        driver,
        lambda d: (
            (then == "gone" and not d.find_elements(By.ID, f"transfer-{transfer}"))
            or d.find_element(By.ID, f"transfer-{transfer}").get_attribute("data-state") == then
        ),
    )


def test_the_central_pharmacy_ships_a_transfer_and_the_clinic_stock_rises(
    running: Running, browser: Any
) -> None:
    drug = new_drug_at_the_hospital(running, 40)
    before = on_hand(running, CLINIC, drug)
    sign_in(browser, running, "donghu", "/pharmacy")  # the township centre asks for it
    Select(browser.find_element(By.ID, "drug-1")).select_by_value(drug)
    browser.find_element(By.ID, "quantity-1").send_keys("15")
    click(browser, "#ask")
    row = until(browser, lambda d: d.find_element(By.CSS_SELECTOR, f"tr[data-drugs~='{drug}']"))
    transfer = row.get_attribute("id").removeprefix("transfer-")
    with running.pharmacy.client(Role.PHARMACY_CENTRE) as centre:  # the pharmacy holds it
        asked = centre.get(f"/transfers/{transfer}").json()
    assert asked["to_facility_id"] == CLINIC and asked["state"] == "requested"
    sign_out(browser)
    sign_in(browser, running, "pharmacy", "/pharmacy")
    take_step(browser, transfer, "approve", then="approved")
    take_step(browser, transfer, "ship", then="shipped")
    shot(browser, "pharmacy")
    sign_out(browser)
    sign_in(browser, running, "donghu", "/pharmacy")
    take_step(browser, transfer, "receive", then="gone")
    assert on_hand(running, CLINIC, drug) == before + 15  # the pharmacy service holds it
    stock = browser.find_element(By.CSS_SELECTOR, f"#stock-{drug} td[data-on-hand]")
    assert stock.get_attribute("data-on-hand") == str(before + 15)


def test_a_clinic_finds_a_drug_in_the_formulary_and_exports_it(
    running: Running, browser: Any
) -> None:
    drug = new_drug_at_the_hospital(running, 5)
    sign_in(browser, running, "donghu", "/pharmacy")
    browser.find_element(By.LINK_TEXT, "查看全县统一药品目录").click()
    until(browser, lambda d: d.find_element(By.ID, "q")).send_keys(f"氨氯地平片{drug}")
    Select(browser.find_element(By.ID, "kind")).select_by_value("essential")
    click(browser, "form[role=search] button")
    until(browser, lambda d: "kind=essential" in d.current_url)  # the search's answer
    row = until(browser, lambda d: d.find_element(By.ID, f"drug-{drug}"))
    assert "基本药物" in row.text and "基层、二级、三级" in row.text and "17.6" in row.text
    assert len(browser.find_elements(By.CSS_SELECTOR, "#formulary-rows tr")) == 1
    shot(browser, "formulary")
    session = {"console_session": browser.get_cookie("console_session")["value"]}
    exported = httpx.get(
        f"{running.console.url}/pharmacy/formulary/export.csv", params={"q": drug}, cookies=session
    )
    assert exported.status_code == 200 and exported.content.startswith(codecs.BOM_UTF8)
    header, line = exported.content.decode("utf-8-sig").splitlines()
    assert header.startswith("药品编码,名称") and line.startswith(f"{drug},氨氯地平片{drug}")


def held_prescription(running: Running) -> str:
    """A township doctor's restricted antibiotic (levofloxacin): held for a pharmacist."""
    rx = f"RX-C-{uuid.uuid4().hex[:8].upper()}"
    issued = PrescriptionIssued(
        prescription_id=rx, facility_id=CLINIC, facility_tier=FacilityTier.PRIMARY,
        patient_pseudonym="c4" * 32, prescriber_id="S-T01-001",
        category=PrescriptionCategory.WESTERN,
        lines=[PrescriptionLine(line_no=1, drug_code="QSY-W003", quantity=1, days_supply=7)],
        total_amount=Decimal("12.60"), issued_at=utc_now() - timedelta(minutes=1),
    )  # fmt: skip
    record = encode(new_event(issued, source=f"/his/{CLINIC}"))
    produce(running.bootstrap, "ingestion.prescription", [record], key=CLINIC.encode())
    return rx


def review_of(running: Running, rx: str) -> dict[str, Any]:
    with running.quality.client(Role.PHARMACY_CENTRE) as centre:
        found = centre.get(f"/reviews/{CLINIC}/{rx}")
    return found.json() if found.status_code == 200 else {}


def test_a_review_centre_pharmacist_returns_a_held_prescription(
    running: Running, browser: Any
) -> None:
    rx = held_prescription(running)
    wait_for(lambda: review_of(running, rx).get("state") == "held", what="the hold")
    sign_in(browser, running, "pharmacy", "/review")
    key = f"#review-{CLINIC}-{rx}"
    assert until(browser, lambda d: "抗菌药物" in d.find_element(By.CSS_SELECTOR, key).text)
    shot(browser, "review")
    reason = "限制级抗菌药物，请改用阿莫西林"  # typing keeps the focus: no refresh meanwhile
    until(
        browser,
        lambda d: (
            d.find_element(By.CSS_SELECTOR, f"{key} input[name='note']").send_keys(reason) or True
        ),
    )
    until(browser, lambda d: click(d, f"{key} button[data-decision='reject']"))
    until(browser, lambda d: not d.find_elements(By.ID, f"review-{CLINIC}-{rx}"))
    decided = review_of(running, rx)
    assert decided["state"] == "rejected" and decided["decided_by"] == "console:pharmacy"


DISPENSED = {"type": "pharmacy.prescription.dispensed.v1", "outcome": "applied"}


def dispensed_in_an_ended_month(running: Running, count: int) -> tuple[str, list[str]]:
    """``count`` amlodipine prescriptions of the township centre issued two months ago (an
    ended month, drawable whatever today is), dispensed by the pharmacy service and known to
    quality as dispensed: that month's audit population there."""
    month = ended_months(county_today(), 2)[1]
    before = running.quality.metric("quality_events_consumed_total", **DISPENSED)
    prescriptions, records = [], []
    for n in range(count):
        rx = f"RX-A-{uuid.uuid4().hex[:8].upper()}"
        issued_at = datetime.fromisoformat(f"{month}-{5 + n:02d}T09:30:00+08:00")
        issued = PrescriptionIssued(
            prescription_id=rx, facility_id=CLINIC, facility_tier=FacilityTier.PRIMARY,
            patient_pseudonym="a7" * 32, prescriber_id="S-T01-001",
            category=PrescriptionCategory.WESTERN,
            lines=[PrescriptionLine(line_no=1, drug_code="QSY-W011", quantity=1, days_supply=28)],
            total_amount=Decimal("4.20"), issued_at=issued_at,
        )  # fmt: skip
        records.append(encode(new_event(issued, source=f"/his/{CLINIC}")))
        prescriptions.append(rx)
    produce(running.bootstrap, "ingestion.prescription", records, key=CLINIC.encode())
    wait_for(
        lambda: (
            running.quality.metric("quality_events_consumed_total", **DISPENSED) >= before + count
        ),
        what="quality told of the dispensings",
    )
    return month, prescriptions


def verdict_on(driver: Any, prescription: str) -> str | None:
    return driver.find_element(By.ID, f"audit-{prescription}").get_attribute("data-verdict")


def test_the_review_centre_audits_a_month_and_publishes_a_member(
    running: Running, browser: Any
) -> None:
    month, (first, second) = dispensed_in_an_ended_month(running, 2)
    sign_in(browser, running, "pharmacy", "/review")
    browser.find_element(By.LINK_TEXT, "每月处方点评").click()
    Select(until(browser, lambda d: d.find_element(By.ID, "month"))).select_by_value(month)
    click(browser, "#choose-month button")
    until(browser, lambda d: d.current_url.endswith(f"/review/audits/{month}"))
    click(browser, "#draw")
    member = until(browser, lambda d: d.find_element(By.ID, f"audit-{CLINIC}"))
    assert "未发布" in member.text
    member.find_element(By.LINK_TEXT, "点评").click()
    until(browser, lambda d: d.find_element(By.ID, f"audit-{first}"))
    queue = browser.current_url
    Select(browser.find_element(By.ID, f"verdict-{first}")).select_by_value("rational")
    Select(browser.find_element(By.ID, f"reasons-{first}")).select_by_value("diagnosis_missing")
    click(browser, f"button[data-save='{first}']")  # rational with a reason: refused, in Chinese
    assert "合理处方不应选择" in until(browser, lambda d: d.find_element(By.ID, "message")).text
    browser.get_log("browser")  # the refusal's 422 is the point here
    browser.get(queue)
    Select(browser.find_element(By.ID, f"verdict-{first}")).select_by_value("rational")
    click(browser, f"button[data-save='{first}']")
    until(browser, lambda d: verdict_on(d, first) == "rational")
    Select(browser.find_element(By.ID, f"verdict-{second}")).select_by_value("non_standard")
    Select(browser.find_element(By.ID, f"reasons-{second}")).select_by_value("diagnosis_missing")
    browser.find_element(By.ID, f"note-{second}").send_keys("未写临床诊断")
    click(browser, f"button[data-save='{second}']")
    until(browser, lambda d: verdict_on(d, second) == "non_standard")
    assert "开具处方未写临床诊断" in browser.find_element(By.ID, f"audit-{second}").text
    shot(browser, "audit")
    click(browser, "#publish")
    until(browser, lambda d: "已发布" in d.find_element(By.ID, "audit-progress").text)
    with running.quality.client(Role.COUNTY_ADMIN) as centre:  # the quality service holds it
        summary = centre.get(f"/audits/{month}/facilities/{CLINIC}").json()["summary"]
    assert summary["sampled"] == 2 and summary["irrational"] == 1
    assert summary["published_at"] is not None


def adjust_and_comment(browser: Any, running: Running) -> None:
    """The committee adds 1.5 points to the township centre's draft total, saying why, and
    comments; the administration service holds both, in the scorecard's trail."""
    browser.find_element(By.CSS_SELECTOR, f"#scorecard-{CLINIC} a").click()
    adjust_by(browser, "20")  # over the county's cap: refused, in Chinese
    assert "调整分值超出上限" in until(browser, lambda d: d.find_element(By.ID, "message")).text
    refused = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert all("422" in e["message"] for e in refused), refused
    browser.back()
    adjust_by(browser, "1.5")
    until(browser, lambda d: Decimal(adjustment_on(d)) == Decimal("1.5"))
    browser.find_element(By.ID, "text").send_keys("请补报第二季度慢病随访数据")
    click(browser, "#comment")
    until(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#trail-rows [data-kind=comment]"))
    assert browser.find_elements(By.CSS_SELECTOR, "#trail-rows [data-kind=adjusted]")
    shot(browser, "scorecard")
    assert axe_violations(browser) == []  # the draft's scorecard, with its forms
    with running.administration.client(Role.COUNTY_ADMIN) as committee:
        card = committee.get(f"/appraisals/2026-H1/scorecards/{CLINIC}").json()
    assert Decimal(card["adjustment"]) == Decimal("1.5")
    assert card["adjustment_reason"] == "家庭医生签约服务工作突出"


def adjust_by(browser: Any, points: str) -> None:
    field = until(browser, lambda d: d.find_element(By.ID, "points"))
    field.clear()
    field.send_keys(points)
    reason = browser.find_element(By.ID, "reason")
    reason.clear()
    reason.send_keys("家庭医生签约服务工作突出")
    click(browser, "#adjust")


def adjustment_on(driver: Any) -> str:
    return str(driver.find_element(By.ID, "adjustment").get_attribute("data-points"))


def test_the_committee_drafts_and_approves_a_half_year_and_a_member_reads_its_own(
    running: Running, browser: Any
) -> None:
    sign_in(browser, running, "admin", "/appraisal?period=2026-H1")
    browser.find_element(By.CSS_SELECTOR, "button[data-step='draft']").click()
    until(browser, lambda d: d.find_element(By.ID, "state").get_attribute("data-state") == "draft")
    members = browser.find_elements(By.CSS_SELECTOR, "tr[id^='scorecard-']")
    assert len(members) >= 10  # the members the scorecard appraises (not the village clinics)
    shot(browser, "appraisal")
    adjust_and_comment(browser, running)
    browser.find_element(By.LINK_TEXT, "返回考核").click()
    until(browser, lambda d: d.find_element(By.CSS_SELECTOR, "button[data-step='approve']"))
    browser.find_element(By.CSS_SELECTOR, "button[data-step='approve']").click()
    until(
        browser, lambda d: d.find_element(By.ID, "state").get_attribute("data-state") == "approved"
    )
    sign_out(browser)
    sign_in(browser, running, "donghu", "/appraisal?period=2026-H1")
    try:
        own = until(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "tr[id^='scorecard-']"))
    except TimeoutException:  # say what the page showed instead (once: nothing in 20 s)
        raise AssertionError(browser.find_element(By.TAG_NAME, "main").text) from None
    assert [row.get_attribute("id") for row in own] == [f"scorecard-{CLINIC}"], (
        browser.find_element(By.TAG_NAME, "main").text
    )
    assert not browser.find_elements(By.CSS_SELECTOR, "button[data-step]")


def test_finance_reads_the_bundle_and_a_balanced_trial_balance(
    running: Running, browser: Any
) -> None:
    sign_in(browser, running, "finance", "/finance")
    wait_for(
        lambda: browser.refresh() or browser.find_elements(By.CSS_SELECTOR, "tr[id^='budget-']"),
        what="the communities' bundles on the page",
    )
    assert Decimal(browser.find_element(By.ID, "balanced").get_attribute("data-difference")) == 0
    shot(browser, "finance")


def test_the_finance_centre_reads_the_journal_and_closes_last_month(
    running: Running, browser: Any
) -> None:
    sign_in(browser, running, "finance", "/finance")
    browser.find_element(By.LINK_TEXT, "记账凭证").click()
    entry = until(browser, lambda d: d.find_element(By.CSS_SELECTOR, "tr[id^='entry-']"))
    assert entry.get_attribute("data-type") in finance_board.ENTRY_TYPES  # named in Chinese
    shot(browser, "journal")
    browser.get(f"{running.console.url}/finance")
    browser.find_element(By.LINK_TEXT, "结账与绩效分配").click()
    last = ended_months(county_today(), 1)[0]
    Select(until(browser, lambda d: d.find_element(By.ID, "close-period"))).select_by_value(last)
    click(browser, "#close")  # not confirmed: the browser asks for the tick first
    assert browser.find_elements(By.ID, "close-form") and "/close" not in browser.current_url
    browser.find_element(By.ID, "confirmed").click()
    click(browser, "#close")
    until(browser, lambda d: period_status(d, last) == "closed")
    shot(browser, "periods")
    with running.finance.client(Role.FINANCE_CENTRE) as centre:  # the finance service holds it
        closed = {p["period"]: p["status"] for p in centre.get("/periods").json()}
    assert closed[last] == "closed"


def period_status(driver: Any, period: str) -> str | None:
    return driver.find_element(By.ID, f"period-{period}").get_attribute("data-status")


def latest(browser: Any, code: str) -> Decimal:
    shown = browser.find_element(By.CSS_SELECTOR, f"#indicator-{code} [data-latest]")
    return Decimal(shown.get_attribute("data-latest") or "0")


COMMUNITY_NAME = "青山县人民医院医共体"


def test_the_county_report_is_served_with_charts(running: Running, browser: Any) -> None:
    running.refer(upward("欧阳青", resident_id()))
    sign_in(browser, running, "admin", "/report")
    wait_for(  # counted by the reporting service
        lambda: browser.refresh() or latest(browser, "referrals_up") >= 1,
        what="this month's referrals up in the county report",
    )
    charts = browser.find_elements(By.CSS_SELECTOR, "section.chart svg[role='img']")
    assert len(charts) >= 30  # every county indicator
    assert browser.find_elements(By.CSS_SELECTOR, "#indicator-referrals_up circle")
    shot(browser, "report")
    browser.get(f"{running.console.url}/")  # 首页: the county's key indicators at a glance
    tiles = browser.find_elements(By.CSS_SELECTOR, "li[id^='glance-']")
    assert (
        len(tiles) >= 4
        and "基层就诊率"
        in browser.find_element(By.ID, "glance-title").find_element(By.XPATH, "..").text
    )
    browser.back()
    Select(browser.find_element(By.ID, "community_id")).select_by_value("QS-MC1")
    click(browser, "form[action='/report'] button")
    until(browser, lambda d: "community_id=QS-MC1" in d.current_url)
    community = browser.find_element(By.TAG_NAME, "h1").text
    assert community.endswith(COMMUNITY_NAME), community  # the community's own indicators
    assert browser.find_elements(By.CSS_SELECTOR, "section.chart svg[role='img']")
    sign_in(browser, running, "hospital", "/report")
    assert "县人民医院" in browser.find_element(By.TAG_NAME, "h1").text
    assert latest(browser, "referrals_up") == 0  # its referrals come in: they are not up
    browser.get(f"{running.console.url}/report?facility_id={CLINIC}")
    assert "只能查看本机构" in browser.find_element(By.ID, "message").text
    refused = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert all("403 (Forbidden)" in e["message"] for e in refused), refused


def test_a_clinic_sees_only_its_own_board(running: Running, browser: Any) -> None:
    sign_in(browser, running, "donghu", "/")
    shot(browser, "home")
    assert not browser.find_elements(By.CSS_SELECTOR, "a[href='/accounts']")
    browser.get(f"{running.console.url}/referrals")
    assert "东湖镇卫生院" in browser.find_element(By.TAG_NAME, "h1").text
    assert not browser.find_elements(By.ID, "facility_id")  # no other facility to choose
    browser.get(f"{running.console.url}/referrals?facility_id={HOSPITAL}")
    assert "只能查看本机构" in browser.find_element(By.ID, "message").text
    browser.get(f"{running.console.url}/finance?facility_id={HOSPITAL}")
    assert "只能查看本机构" in browser.find_element(By.ID, "message").text
    browser.get(f"{running.console.url}/accounts")
    assert "无权" in browser.find_element(By.ID, "message").text
    refused = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert refused and all("403 (Forbidden)" in e["message"] for e in refused), refused


def sessions_at(running: Running, facility: str, monday: str) -> list[dict[str, Any]]:
    with running.staffing.client(Role.HR) as office:
        found = office.get("/sessions", params={"facility_id": facility, "week": monday})
    return [s for s in found.json()["items"] if s["status"] != "cancelled"]


def test_the_personnel_office_plans_and_cancels_an_expert_session(
    running: Running, browser: Any
) -> None:
    monday = (county_today() + timedelta(weeks=3)).isoformat()  # a draft week of its own
    sign_in(browser, running, "renshi", f"/staffing?facility_id={CLINIC}&week={monday}")
    monday = browser.find_element(By.ID, "week").get_attribute("data-week")
    Select(browser.find_element(By.ID, "staff_id")).select_by_value("S-H01-003")
    wednesday = (date.fromisoformat(monday) + timedelta(days=2)).isoformat()
    Select(browser.find_element(By.ID, "date")).select_by_value(wednesday)
    Select(browser.find_element(By.ID, "half_day")).select_by_value("afternoon")
    click(browser, "#plan")
    assert not browser.find_elements(By.ID, "message"), browser.find_element(By.ID, "message").text
    slot = until(browser, lambda d: d.find_element(By.ID, f"slot-{wednesday}-afternoon"))
    assert "张伟（主治医师）" in slot.text, slot.text
    (planned,) = sessions_at(running, CLINIC, monday)  # the staffing service holds it
    assert planned["staff_id"] == "S-H01-003" and planned["half_day"] == "afternoon"
    assert browser.find_elements(By.CSS_SELECTOR, "#coverage tr[id^='rule-']")
    shot(browser, "staffing")
    click(browser, f"#session-{planned['session_id']} button")
    until(browser, lambda d: not d.find_elements(By.ID, f"session-{planned['session_id']}"))
    assert sessions_at(running, CLINIC, monday) == []


def test_the_personnel_office_records_leave_and_stations_a_physician(
    running: Running, browser: Any
) -> None:
    monday = board_monday(county_today() + timedelta(weeks=5))  # a week nobody else plans
    thursday = (monday + timedelta(days=3)).isoformat()
    sign_in(browser, running, "renshi", f"/staffing?facility_id={CLINIC}&week={monday}")
    Select(browser.find_element(By.ID, "leave-staff")).select_by_value("S-H01-006")  # 杨帆
    Select(browser.find_element(By.ID, "leave-kind")).select_by_value("training")
    fill_date(browser, "leave-start", thursday)
    fill_date(browser, "leave-end", thursday)
    Select(browser.find_element(By.ID, "leave-half")).select_by_value("afternoon")
    click(browser, "#leave")
    row = until(browser, lambda d: d.find_element(By.CSS_SELECTOR, "#leave-rows tr[id^='leave-']"))
    assert "进修培训" in row.text and "下午" in row.text
    leave_id = row.get_attribute("id").removeprefix("leave-")
    shot(browser, "physician")
    browser.get(f"{running.console.url}/staffing?facility_id={CLINIC}&week={monday}")
    Select(browser.find_element(By.ID, "staff_id")).select_by_value("S-H01-006")
    Select(browser.find_element(By.ID, "date")).select_by_value(thursday)
    Select(browser.find_element(By.ID, "half_day")).select_by_value("afternoon")
    click(browser, "#plan")  # over the leave: the staffing service refuses, told in Chinese
    assert "该医师此时段请假" in until(browser, lambda d: d.find_element(By.ID, "message")).text
    browser.get_log("browser")  # the refusal's 409 is the point here
    browser.get(f"{running.console.url}/staffing/staff/S-H01-006")
    click(browser, f"button[data-withdraw='{leave_id}']")
    until(
        browser,
        lambda d: (
            d.find_element(By.ID, f"leave-{leave_id}").get_attribute("data-withdrawn") == "yes"
        ),
    )
    with running.staffing.client(Role.HR) as office:  # the staffing service holds both
        held = office.get("/leave", params={"staff_id": "S-H01-006"}).json()["items"]
    assert {(x["leave_id"], x["withdrawn"]) for x in held} >= {(leave_id, True)}
    browser.get(f"{running.console.url}/staffing?facility_id={CLINIC}&week={monday}")
    Select(browser.find_element(By.ID, "station-staff")).select_by_value("S-H01-014")  # 朱婷
    fill_date(browser, "station-start", monday.isoformat())
    fill_date(browser, "station-end", (monday + timedelta(days=180)).isoformat())
    click(browser, "#station")
    stationed = until(
        browser, lambda d: d.find_element(By.CSS_SELECTOR, "#stationing-rows tr[id^='stationing-']")
    )
    assert "朱婷" in stationed.text
    with running.staffing.client(Role.HR) as office:
        found = office.get("/stationings", params={"facility_id": CLINIC, "on": monday.isoformat()})
    assert "S-H01-014" in {x["staff_id"] for x in found.json()["items"]}


def board_monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def fill_date(driver: Any, field: str, day: str) -> None:
    """A date field set as a person's picker would (its typed form depends on the locale)."""
    driver.execute_script("document.getElementById(arguments[0]).value = arguments[1]", field, day)


def broken_prescription(bootstrap: str) -> tuple[str, str]:
    """An amlodipine prescription whose HIS sent a quantity of 0: every consumer refuses it
    (``schema_violation``). Returns its event id and its prescription id."""
    rx = f"RX-D-{uuid.uuid4().hex[:8].upper()}"
    issued = PrescriptionIssued(
        prescription_id=rx, facility_id=CLINIC, facility_tier=FacilityTier.PRIMARY,
        patient_pseudonym="d5" * 32, prescriber_id="S-T01-001",
        category=PrescriptionCategory.WESTERN,
        lines=[PrescriptionLine(line_no=1, drug_code="QSY-W011", quantity=1, days_supply=7)],
        total_amount=Decimal("8.40"), issued_at=utc_now() - timedelta(minutes=1),
    )  # fmt: skip
    event = new_event(issued, source=f"/his/{CLINIC}")
    body = json.loads(encode(event))
    body["data"]["lines"][0]["quantity"] = 0
    broken = json.dumps(body, ensure_ascii=False).encode()
    produce(bootstrap, "ingestion.prescription", [broken], key=CLINIC.encode())
    return event.id, rx


def test_an_administrator_replays_a_fixed_dead_letter(running: Running, browser: Any) -> None:
    event_id, rx = broken_prescription(running.bootstrap)
    sign_in(browser, running, "admin", "/operations")
    row = f"tr[id^='letter-quality-'][data-event-id='{event_id}']"
    wait_for(
        lambda: browser.refresh() or browser.find_elements(By.CSS_SELECTOR, row),
        what="quality's dead letter on the 运维 page",
    )
    assert "数据不符合事件定义" in browser.find_element(By.CSS_SELECTOR, row).text
    assert browser.find_element(By.ID, "service-quality").get_attribute("data-ready") == "True"
    shot(browser, "operations")
    click(browser, f"{row} a")
    record = until(browser, lambda d: d.find_element(By.ID, "value"))
    text = record.get_attribute("value")
    assert '"quantity": 0' in text
    record.clear()
    record.send_keys(text.replace('"quantity": 0', '"quantity": 2'))
    shot(browser, "dead-letter")
    click(browser, "#replay")
    assert "已应用" in until(browser, lambda d: d.find_element(By.ID, "outcome")).text
    assert review_of(running, rx).get("prescription_id") == rx  # quality applied the correction
    outcome = browser.find_element(By.CSS_SELECTOR, "#replays td[data-outcome]")
    assert outcome.get_attribute("data-outcome") == "applied"
    browser.get(f"{running.console.url}/operations")
    replayed = browser.find_element(By.CSS_SELECTOR, f"{row} td[data-outcome]")
    assert replayed.get_attribute("data-outcome") == "applied"


@pytest.mark.parametrize(
    "page",
    [
        "/sign-in",
        "/",
        "/referrals",
        "/pharmacy",
        "/pharmacy/formulary",
        "/review",
        "/review/audits",
        "/finance",
        "/finance/journal",
        "/finance/periods",
        "/appraisal",
        "/staffing",
        "/report",
        "/operations",
        "/accounts",
    ],
)
def test_pages_pass_the_accessibility_check(running: Running, browser: Any, page: str) -> None:
    if page != "/sign-in":
        sign_in(browser, running, "admin", page)
    else:
        browser.get(f"{running.console.url}/sign-in")
    violations = axe_violations(browser)
    assert violations == [], json.dumps(violations, ensure_ascii=False, indent=1)
    if page == "/accounts":
        shot(browser, "accounts")


def test_the_board_fits_a_phone(running: Running, chromium: Chromium) -> None:
    with headless_chromium(chromium, window="390,844") as phone:
        sign_in(phone, running, "hospital", "/referrals")
        wide = phone.execute_script(
            "return [...document.querySelectorAll('body *')]"
            ".filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)"
            ".filter(e => !e.closest('.scroll')).map(e => e.tagName + '.' + e.className);"
        )
        assert wide == [], f"wider than the phone (tables scroll on their own): {wide}"
        shot(phone, "referrals-phone")


__all__ = ["Path"]
