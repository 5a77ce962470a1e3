"""A service process whose consumers believe every event is new: deduplication on the event
id and on the business fact (``processed_facts``) broken on purpose, to show that a test
catches what that lets through (doubled stock movements, postings, counts). Never anything
else.

    python -m tests.support.without_dedup <service>

Tests start it with ``start_service(..., module="tests.support.without_dedup")``; the fault
tests do when ``BREAK_DEDUP=1`` is set (see tests/e2e/test_faults.py).
"""

from __future__ import annotations

import runpy
import sys
from collections.abc import Iterable, Mapping

from sqlalchemy.orm import Session

from libs.events.consuming import batch, processed, set_application, triage


def claim_everything(
    session: Session, consumer: str, event_ids: Iterable[str] | Mapping[str, str | None]
) -> set[str]:
    """Record the claims as usual, then report every id as new, seen before or not."""
    processed.claim(session, consumer, event_ids)
    return set(event_ids)


def every_fact_is_new(
    session: Session, consumer: str, fact: str, event_id: str, digest: str
) -> tuple[str, str] | None:
    """Claim nothing: every fact is taken for new."""
    return None


def no_fact_was_claimed(
    session: Session, consumer: str, facts: Iterable[str]
) -> dict[str, tuple[str, str]]:
    """A set's facts: none applied before."""
    return {}


def claim_no_facts(session: Session, consumer: str, facts: Mapping[str, tuple[str, str]]) -> None:
    """Claim nothing for a set either."""


def main() -> None:
    service = sys.argv[1]
    batch.claim = claim_everything
    triage.claim = claim_everything
    batch.claim_fact = every_fact_is_new
    set_application.claimed_facts = no_fact_was_claimed
    set_application.claim_facts = claim_no_facts
    sys.argv = [f"services.{service}", *sys.argv[2:]]
    runpy.run_module(f"services.{service}", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
