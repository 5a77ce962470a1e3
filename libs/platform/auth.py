"""Authentication every admin API uses: signed, expiring tokens with a role and a facility.

Tokens are JWTs (HS256) naming their key id (``kid``); several keys can verify while only the
first signs, which is how keys rotate. The claims are the subject, the role, the facility the
holder acts for (clinic staff always have one; central roles act for the whole community
unless scoped), issue and expiry times, and a token id.

    python -m libs.platform.auth mint --role clinic_staff --facility F-TOWN-01 --ttl 8h
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from pathlib import Path

import jwt

from libs.events.envelope import utc_now

__all__ = [
    "InvalidToken",
    "Principal",
    "Role",
    "TokenAuthority",
    "load_signing_keys",
    "parse_ttl",
]

MIN_SECRET_BYTES = 32
ALGORITHM = "HS256"
#: How many verified tokens an authority remembers (each a few hundred bytes).
VERIFIED_CACHE_SIZE = 4096


class Role(StrEnum):
    COUNTY_ADMIN = "county_admin"  # the management centre (医共体管理中心)
    PHARMACY_CENTRE = "pharmacy_centre"  # 中心药房
    FINANCE_CENTRE = "finance_centre"  # 财务中心
    HR = "hr"  # 人力资源
    CLINIC_STAFF = "clinic_staff"  # staff of one member facility


class InvalidToken(Exception):
    """The token is missing, malformed, expired, or not signed by a known key."""


@dataclass(frozen=True)
class Principal:
    subject: str
    role: Role
    facility_id: str | None
    token_id: str

    def can_act_for(self, facility_id: str) -> bool:
        """Whether the holder may see or act for ``facility_id``: clinic staff for their own
        facility only (none if the token names none); the county's central roles for every
        member. Which roles may call a route at all is the route's own rule (its
        ``require_roles``), never this."""
        if self.role is Role.CLINIC_STAFF:
            return self.facility_id is not None and self.facility_id == facility_id
        return self.facility_id is None or self.facility_id == facility_id


class TokenAuthority:
    """Mints and verifies tokens with a keyring of ``(kid, secret)``; the first key signs."""

    def __init__(self, keys: list[tuple[str, bytes]], issuer: str) -> None:
        if not keys:
            raise ValueError("at least one signing key is needed")
        for kid, secret in keys:
            if len(secret) < MIN_SECRET_BYTES:
                raise ValueError(f"key {kid!r} is shorter than {MIN_SECRET_BYTES} bytes")
        self._keys = dict(keys)
        self._signing_kid = keys[0][0]
        self._issuer = issuer
        # token -> (its principal, its expiry in Unix seconds): a client sends the same token
        # with every request, and checking its signature and claims again each time cost
        # more than a stock query's own work. Only valid tokens enter; each is believed only
        # until its own expiry; the oldest entry leaves when the cache is full.
        self._verified: dict[str, tuple[Principal, float]] = {}
        self._verified_lock = threading.Lock()

    def mint(
        self,
        *,
        subject: str,
        role: Role,
        facility_id: str | None = None,
        ttl: timedelta = timedelta(hours=8),
    ) -> str:
        if role is Role.CLINIC_STAFF and not facility_id:
            raise ValueError("clinic staff tokens must name their facility")
        now = utc_now()
        claims = {
            "iss": self._issuer,
            "sub": subject,
            "role": role.value,
            "fac": facility_id,
            "iat": int(now.timestamp()),
            "exp": int((now + ttl).timestamp()),
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(
            claims,
            self._keys[self._signing_kid],
            algorithm=ALGORITHM,
            headers={"kid": self._signing_kid},
        )

    def verify(self, token: str) -> Principal:
        """The principal of a valid token; :class:`InvalidToken` otherwise.

        A token verified before is answered from a bounded cache until its expiry.
        """
        cached = self._verified.get(token)
        if cached is not None:
            principal, expires = cached
            if time.time() < expires:
                return principal
            with self._verified_lock:
                self._verified.pop(token, None)
        principal, expires = self._verify(token)
        with self._verified_lock:
            self._verified[token] = (principal, expires)
            while len(self._verified) > VERIFIED_CACHE_SIZE:
                del self._verified[next(iter(self._verified))]
        return principal

    def _verify(self, token: str) -> tuple[Principal, float]:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            secret = self._keys.get(kid) if isinstance(kid, str) else None
            if secret is None:
                raise InvalidToken("token signed by an unknown key")
            claims = jwt.decode(
                token,
                secret,
                algorithms=[ALGORITHM],
                issuer=self._issuer,
                options={"require": ["exp", "iat", "sub", "iss", "jti"]},
            )
            role = Role(str(claims.get("role")))
        except InvalidToken:
            raise
        except jwt.ExpiredSignatureError:
            raise InvalidToken("token expired") from None
        except (jwt.PyJWTError, ValueError) as exc:
            raise InvalidToken(f"invalid token: {exc}") from None
        facility = claims.get("fac")
        if role is Role.CLINIC_STAFF and not facility:
            raise InvalidToken("clinic staff token without a facility")
        principal = Principal(
            subject=str(claims["sub"]),
            role=role,
            facility_id=str(facility) if facility else None,
            token_id=str(claims["jti"]),
        )
        return principal, float(claims["exp"])


_KEY_ITEM = re.compile(r"^(?P<kid>[A-Za-z0-9._-]{1,64}):(?P<secret>.+)$")


def parse_keys(spec: str) -> list[tuple[str, bytes]]:
    """``"kid1:secret1,kid0:secret0"`` → keyring, first entry signing."""
    keys = []
    for item in filter(None, (part.strip() for part in spec.split(","))):
        match = _KEY_ITEM.match(item)
        if match is None:
            raise ValueError("AUTH_KEYS entries look like kid:secret")
        keys.append((match["kid"], match["secret"].encode()))
    return keys


def load_signing_keys(spec: str, data_dir: Path, *, production: bool) -> list[tuple[str, bytes]]:
    """The keyring from ``AUTH_KEYS``; in development, a generated one kept in ``data_dir``
    so that every local service and the mint command share it."""
    if spec:
        return parse_keys(spec)
    if production:
        raise ValueError("AUTH_KEYS is required in production")
    path = data_dir / "auth-keys"
    data_dir.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        generated = f"dev-{secrets.token_hex(4)}:{secrets.token_urlsafe(48)}"
        # Exclusive create: when several services start at once only one key is generated.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(generated)
        except FileExistsError:
            pass
    return parse_keys(path.read_text().strip())


def parse_ttl(text: str) -> timedelta:
    """``30m``, ``8h``, ``7d`` → a timedelta."""
    match = re.fullmatch(r"(\d+)([smhd])", text.strip())
    if match is None:
        raise ValueError("a TTL looks like 30m, 8h or 7d")
    unit = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[match[2]]
    return timedelta(**{unit: int(match[1])})


def main(argv: list[str] | None = None) -> int:
    from libs.platform.settings import PlatformSettings

    parser = argparse.ArgumentParser(
        prog="python -m libs.platform.auth",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    mint = commands.add_parser("mint", help="print a token")
    mint.add_argument("--role", required=True, choices=[r.value for r in Role])
    mint.add_argument("--facility", default=None)
    mint.add_argument("--subject", default=None)
    mint.add_argument("--ttl", default="8h")
    args = parser.parse_args(argv)
    settings = PlatformSettings()
    authority = TokenAuthority(
        load_signing_keys(
            settings.auth_keys, settings.data_dir, production=settings.environment == "production"
        ),
        settings.auth_issuer,
    )
    role = Role(args.role)
    print(
        authority.mint(
            subject=args.subject or f"{role.value}-local",
            role=role,
            facility_id=args.facility,
            ttl=parse_ttl(args.ttl),
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
