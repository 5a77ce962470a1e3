"""What a county administrator does with accounts: create, change, disable, set a password;
and the demo sign-ins a development suite starts with. Every change is recorded."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import yaml

from libs.platform.auth import Role
from services.console.adapters.schema import AccountRow
from services.console.domain.accounts import (
    AccountRefused,
    AccountTerms,
    check_password,
    check_terms,
)
from services.console.service_layer.unit_of_work import ConsoleUnitOfWork

__all__ = [
    "DemoSignIns",
    "create_account",
    "directory_names",
    "facility_names",
    "set_password",
    "update_account",
]


def _checked(uow: ConsoleUnitOfWork, terms: AccountTerms) -> AccountTerms:
    known = terms.facility_id is None or uow.facilities.get(terms.facility_id.strip()) is not None
    return check_terms(terms, known_facility=known)


def create_account(
    uow: ConsoleUnitOfWork, terms: AccountTerms, password: str, *, by: str, now: datetime
) -> None:
    with uow:
        terms = _checked(uow, terms)
        check_password(password, username=terms.username)
        if uow.accounts.get(terms.username) is not None:
            raise AccountRefused(f"用户名 {terms.username} 已存在")
        uow.accounts.add(
            AccountRow(
                username=terms.username,
                display_name=terms.display_name,
                role=terms.role.value,
                facility_id=terms.facility_id,
                password_hash=uow.passwords.hash(password),
                active=True,
                created_at=now,
                password_changed_at=now,
            )
        )
        uow.accounts.record_change(terms.username, by, _described("创建", terms), now)
        uow.commit()


def update_account(
    uow: ConsoleUnitOfWork, terms: AccountTerms, *, active: bool, by: str, now: datetime
) -> None:
    """New role, facility, name or state; a disabled account's sessions end at once."""
    with uow:
        row = uow.accounts.get(terms.username)
        if row is None:
            raise AccountRefused(f"没有用户 {terms.username}")
        terms = _checked(uow, terms)
        if by == terms.username and (not active or terms.role is not Role.COUNTY_ADMIN):
            raise AccountRefused("不能停用自己的账户或取消自己的管理员角色")
        # A session carries the role and facility it signed in with: a change ends them.
        if not active or (terms.role.value, terms.facility_id) != (row.role, row.facility_id):
            uow.sessions.end_all_of(terms.username, now)
        row.display_name, row.role = terms.display_name, terms.role.value
        row.facility_id, row.active = terms.facility_id, active
        state = "启用" if active else "停用"
        uow.accounts.record_change(terms.username, by, _described(f"修改（{state}）", terms), now)
        uow.commit()


def set_password(
    uow: ConsoleUnitOfWork, username: str, password: str, *, by: str, now: datetime
) -> None:
    """A new password; the account's other sessions end (whoever knew the old one)."""
    with uow:
        row = uow.accounts.get(username)
        if row is None:
            raise AccountRefused(f"没有用户 {username}")
        check_password(password, username=username)
        row.password_hash = uow.passwords.hash(password)
        row.password_changed_at = now
        uow.sessions.end_all_of(username, now)
        uow.accounts.record_change(username, by, "重设密码", now)
        uow.commit()


class DemoSignIns:
    """The demo sign-ins of a development console (``infra/console/demo-accounts.yaml``),
    each created once its facility has reached the console's copy of the organisation;
    run periodically until all exist."""

    def __init__(self, path: Path, units: Callable[[], ConsoleUnitOfWork]) -> None:
        self.entries = yaml.safe_load(path.read_text(encoding="utf-8"))["accounts"]
        self.units = units
        self.done = False

    def run(self, now: datetime) -> list[str]:
        if self.done:
            return []
        created, missing = [], 0
        for entry in self.entries:
            uow, facility = self.units(), entry.get("facility_id")
            with uow:
                exists = uow.accounts.get(entry["username"]) is not None
                waits = facility is not None and uow.facilities.get(facility) is None
            if exists or waits:
                missing += waits  # its facility is not known yet: the next run tries again
                continue
            terms = AccountTerms(
                entry["username"], entry["display_name"], Role(entry["role"]), facility
            )
            create_account(uow, terms, entry["password"], by="demo", now=now)
            created.append(terms.username)
        self.done = missing == 0
        return created


def _described(verb: str, terms: AccountTerms) -> str:
    where = f"，机构 {terms.facility_id}" if terms.facility_id else ""
    return f"{verb}：{terms.display_name}，角色 {terms.role.value}{where}"[:200]


def facility_names(uow: ConsoleUnitOfWork) -> dict[str, str]:
    """Member facilities by id → name, from the console's copy of the organisation."""
    return directory_names(uow)[0]


def directory_names(uow: ConsoleUnitOfWork) -> tuple[dict[str, str], dict[str, str]]:
    """Member facilities and medical communities (医共体) by id → name, read together."""
    with uow:
        directory = uow.facilities
        facilities = {f.facility_id: f.name for f in directory.all()}
        return facilities, {c.community_id: c.name for c in directory.communities()}
