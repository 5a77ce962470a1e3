"""The event catalogue of the whole suite, one module per domain.

Importing this package registers every event type in :data:`libs.events.registry.registry`.
``docs/events.md`` is generated from it (``make docs``) and a test keeps the two equal.
"""

from libs.events.catalogue import (
    administration,
    finance,
    gateway,
    ingestion,
    organisation,
    pharmacy,
    quality,
    referral,
    reporting,
    staffing,
    values,
)

__all__ = [
    "administration",
    "finance",
    "gateway",
    "ingestion",
    "organisation",
    "pharmacy",
    "quality",
    "referral",
    "reporting",
    "staffing",
    "values",
]
