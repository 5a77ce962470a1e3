"""Encryption at rest of what identifies a patient (name, resident identity number, notes).

AES-256-GCM with a random 96-bit nonce per value; the referral id and the column name are
bound in as associated data, so a ciphertext copied onto another row or column does not
decrypt. A stored value is ``kid:nonce|ciphertext`` so keys can rotate: the first key of
``REFERRAL_PATIENT_DATA_KEYS`` encrypts, every listed key decrypts.

Why: a database dump, a backup or an SQL error that echoes parameters then shows no names
or numbers. The keys live outside the database (environment, or a file in DATA_DIR in
development).
"""

from __future__ import annotations

import base64
import os
import re
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = ["PatientDataCipher", "load_patient_keys", "parse_patient_keys"]

_NONCE_BYTES = 12
_KEY_ITEM = re.compile(r"^(?P<kid>[A-Za-z0-9._-]{1,32}):(?P<key>[A-Za-z0-9+/=_-]+)$")
_KEY_FILE = "referral-patient-keys"


class PatientDataCipher:
    """Encrypts and decrypts personal fields of one referral row."""

    def __init__(self, keys: list[tuple[str, bytes]]) -> None:
        if not keys:
            raise ValueError("at least one patient-data key is needed")
        for kid, key in keys:
            if len(key) != 32:
                raise ValueError(f"patient-data key {kid!r} must be 32 bytes (AES-256)")
        self._keys = {kid: AESGCM(key) for kid, key in keys}
        self._current = keys[0][0]

    def encrypt(self, plaintext: str, *, row: str, column: str) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._keys[self._current].encrypt(
            nonce, plaintext.encode("utf-8"), _context(row, column)
        )
        return self._current.encode("ascii") + b":" + nonce + sealed

    def decrypt(self, stored: bytes, *, row: str, column: str) -> str:
        """The plaintext; :class:`ValueError` (naming no value) if it does not decrypt."""
        kid, sep, rest = bytes(stored).partition(b":")
        aead = self._keys.get(kid.decode("ascii", "replace")) if sep else None
        if aead is None or len(rest) <= _NONCE_BYTES:
            raise ValueError(f"{column} of {row} was sealed with an unknown key")
        try:
            plain = aead.decrypt(rest[:_NONCE_BYTES], rest[_NONCE_BYTES:], _context(row, column))
        except InvalidTag:
            raise ValueError(f"{column} of {row} does not decrypt (wrong key or row)") from None
        return plain.decode("utf-8")


def _context(row: str, column: str) -> bytes:
    return f"referral/{row}/{column}".encode()


def parse_patient_keys(spec: str) -> list[tuple[str, bytes]]:
    """``"k2:<base64 32 bytes>,k1:<...>"`` → keyring, first entry encrypting."""
    keys = []
    for item in filter(None, (part.strip() for part in spec.split(","))):
        match = _KEY_ITEM.match(item)
        if match is None:
            raise ValueError("REFERRAL_PATIENT_DATA_KEYS entries look like kid:base64key")
        keys.append((match["kid"], base64.urlsafe_b64decode(_padded(match["key"]))))
    return keys


def _padded(text: str) -> str:
    return text.replace("+", "-").replace("/", "_") + "=" * (-len(text) % 4)


def load_patient_keys(spec: str, data_dir: Path, *, production: bool) -> list[tuple[str, bytes]]:
    """The keyring from the setting; in development a generated key kept in ``data_dir``."""
    if spec:
        return parse_patient_keys(spec)
    if production:
        raise ValueError("REFERRAL_PATIENT_DATA_KEYS is required in production")
    path = data_dir / _KEY_FILE
    data_dir.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        generated = (
            "dev-"
            + secrets.token_hex(4)
            + ":"
            + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii")
        )
        try:  # exclusive create: two processes starting at once share one key
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(generated)
        except FileExistsError:
            pass
    return parse_patient_keys(path.read_text().strip())
