"""A person who signs in to the console: who they are, their role and the facility they
act for, and the rules an account must keep."""

from __future__ import annotations

import re
from dataclasses import dataclass

from libs.platform.auth import Role

__all__ = [
    "ROLE_NAMES",
    "AccountRefused",
    "AccountTerms",
    "check_password",
    "check_terms",
]

USERNAME = re.compile(r"^[a-z][a-z0-9._-]{2,31}$")
MIN_PASSWORD = 10
MAX_PASSWORD = 128

#: The roles in the words the county uses.
ROLE_NAMES: dict[Role, str] = {
    Role.COUNTY_ADMIN: "医共体管理中心",
    Role.PHARMACY_CENTRE: "中心药房 / 审方中心",
    Role.FINANCE_CENTRE: "财务中心",
    Role.HR: "人力资源",
    Role.CLINIC_STAFF: "成员单位工作人员",
}


class AccountRefused(ValueError):
    """An account's terms or password break a rule; the message is for the person (中文)."""


@dataclass(frozen=True)
class AccountTerms:
    """What an administrator decides about an account."""

    username: str
    display_name: str
    role: Role
    facility_id: str | None


def check_terms(terms: AccountTerms, *, known_facility: bool) -> AccountTerms:
    """``terms`` if they keep the rules: a clinic's staff act for exactly one member
    facility, which must be known; a central role may be scoped to one facility or none."""
    if not USERNAME.match(terms.username):
        raise AccountRefused("用户名须以小写字母开头，3–32 位小写字母、数字或 . _ -")
    name = terms.display_name.strip()
    if not 1 <= len(name) <= 60:
        raise AccountRefused("姓名须为 1–60 个字符")
    facility = (terms.facility_id or "").strip() or None
    if terms.role is Role.CLINIC_STAFF and facility is None:
        raise AccountRefused("成员单位工作人员须指定所属机构")
    if facility is not None and not known_facility:
        raise AccountRefused(f"未知机构：{facility}")
    return AccountTerms(terms.username, name, terms.role, facility)


def check_password(password: str, *, username: str) -> None:
    """A password a person can keep and a guess will not find: 10–128 characters, at
    least two kinds (letters, digits, others), not containing the username."""
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise AccountRefused(f"密码须为 {MIN_PASSWORD}–{MAX_PASSWORD} 个字符")
    kinds = (
        any(c.isalpha() for c in password),
        any(c.isdigit() for c in password),
        any(not c.isalnum() for c in password),
    )
    if sum(kinds) < 2:
        raise AccountRefused("密码须包含字母、数字、符号中的至少两类")
    if username.lower() in password.lower():
        raise AccountRefused("密码不能包含用户名")
