"""County administrators manage accounts: create, change, disable, reset a password; each
change recorded, a rule broken answered in Chinese, nothing half-written."""

from __future__ import annotations

import pytest

from libs.platform.worker import ServiceProcess
from services.console.service_layer.unit_of_work import console_uow
from tests.integration.console.conftest import Browser, unique


def test_an_administrator_creates_an_account_that_can_sign_in(
    console: ServiceProcess, request: pytest.FixtureRequest
) -> None:
    admin = Browser(console)
    admin.sign_in("admin")
    username = unique("desk", request)
    answer = admin.client.post(
        "/accounts",
        data={"csrf_token": admin.csrf("/accounts"), "username": username,
              "display_name": "南塘镇卫生院 吴医生", "role": "clinic_staff",
              "facility_id": "QS-T03", "password": "south-pond-2026"},
    )  # fmt: skip
    assert answer.status_code == 303
    newcomer = Browser(console)
    assert newcomer.sign_in(username, "south-pond-2026") == 303
    with console_uow(console.unit_of_work()) as uow:
        changes = [
            (c.changed_by, c.change) for c in uow.accounts.changes() if c.username == username
        ]
    assert changes and changes[0][0] == "admin" and "QS-T03" in changes[0][1]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"role": "clinic_staff", "facility_id": ""}, "所属机构"),
        ({"facility_id": "QS-NOWHERE"}, "未知机构"),
        ({"password": "short"}, "密码须为"),
        ({"username": "admin"}, "已存在"),
    ],
)
def test_a_broken_rule_is_answered_in_chinese_and_nothing_is_created(
    console: ServiceProcess, request: pytest.FixtureRequest, fields: dict[str, str], message: str
) -> None:
    admin = Browser(console)
    admin.sign_in("admin")
    form = {
        "csrf_token": admin.csrf("/accounts"),
        "username": unique("new", request),
        "display_name": "某某",
        "role": "hr",
        "facility_id": "",
        "password": "long-enough-2026",
    }
    answer = admin.client.post("/accounts", data={**form, **fields})
    assert answer.status_code == 422 and message in answer.text
    if fields.get("username") != "admin":
        with console_uow(console.unit_of_work()) as uow:
            assert uow.accounts.get(form["username"]) is None


def test_disabling_an_account_ends_its_sessions(
    console: ServiceProcess, request: pytest.FixtureRequest
) -> None:
    admin = Browser(console)
    admin.sign_in("admin")
    username = unique("temp", request)
    admin.client.post(
        "/accounts",
        data={"csrf_token": admin.csrf("/accounts"), "username": username,
              "display_name": "临时", "role": "hr", "facility_id": "",
              "password": "temporary-2026"},
    )  # fmt: skip
    person = Browser(console)
    assert person.sign_in(username, "temporary-2026") == 303
    assert person.client.get("/").status_code == 200
    answer = admin.client.post(
        f"/accounts/{username}",
        data={"csrf_token": admin.csrf("/accounts"), "display_name": "临时", "role": "hr",
              "facility_id": ""},
    )  # fmt: skip
    assert answer.status_code == 303
    assert person.client.get("/").status_code == 303
    assert Browser(console).sign_in(username, "temporary-2026") == 401


def test_an_administrator_may_not_lock_themself_out(console: ServiceProcess) -> None:
    admin = Browser(console)
    admin.sign_in("admin")
    answer = admin.client.post(
        "/accounts/admin",
        data={"csrf_token": admin.csrf("/accounts"), "display_name": "王主任",
              "role": "county_admin", "facility_id": ""},
    )  # fmt: skip
    assert answer.status_code == 422 and "不能停用自己" in answer.text
