"""Member systems: registered from the county's configuration, given secrets by the county
administrator, and recognised by them."""

from __future__ import annotations

import secrets
from datetime import datetime

from services.gateway.adapters.schema import MemberSystem
from services.gateway.adapters.systems import rules_of
from services.gateway.domain.systems import SystemRules, digest_secret, new_secret, secret_matches
from services.gateway.service_layer.unit_of_work import GatewayUnitOfWork

__all__ = ["authenticate", "issue_secret", "register_configured"]


def register_configured(uow: GatewayUnitOfWork) -> list[str]:
    """Register (or update) every system of the configuration. Outside production a system
    without a secret gets the development one, so the local suite and simulator connect."""
    config = uow.config
    now = config.now()
    with uow:
        for rules in config.systems:
            row = uow.systems.save_rules(rules, at=now)
            development = config.development_secret_of(rules.system_id)
            if row.secret_digest is None and development is not None:
                _set_secret(row, development, now)
        uow.commit()
    return [rules.system_id for rules in config.systems]


def issue_secret(uow: GatewayUnitOfWork, system_id: str) -> str | None:
    """A new secret for ``system_id`` (the old one stops working); ``None`` if unknown. The
    secret is returned once and kept only as a digest."""
    now = uow.config.now()
    with uow:
        row = uow.systems.get(system_id)
        if row is None:
            return None
        secret = new_secret()
        _set_secret(row, secret, now)
        uow.commit()
    return secret


def authenticate(uow: GatewayUnitOfWork, system_id: str, secret: str) -> SystemRules | None:
    """The rules of the active system ``system_id`` if ``secret`` is its secret."""
    with uow:
        row = uow.systems.get(system_id)
        if row is None or not row.active or row.secret_digest is None or row.secret_salt is None:
            return None
        if not secret_matches(secret, row.secret_salt, row.secret_digest):
            return None
        return rules_of(row)


def _set_secret(row: MemberSystem, secret: str, now: datetime) -> None:
    salt = secrets.token_hex(16)
    row.secret_salt = salt
    row.secret_digest = digest_secret(secret, salt)
    row.secret_issued_at = now
