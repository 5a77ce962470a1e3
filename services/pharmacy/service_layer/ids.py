"""Identifiers this service mints for the documents it creates."""

from __future__ import annotations

import uuid

__all__ = ["new_id"]


def new_id(prefix: str) -> str:
    """``<prefix>-<32 hex digits>``, e.g. ``TRF-1f0c...`` (fits an event Identifier)."""
    return f"{prefix}-{uuid.uuid4().hex}"
