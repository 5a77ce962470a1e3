"""What a published prescription audit (``quality.audit.completed.v1``) contributes to the
audit indicators (:mod:`services.reporting.domain.audit`): a pure function from the payload
and its member facility to cell changes, like :mod:`rules`."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from libs.events.catalogue.quality import AuditCompleted
from services.reporting.domain.cells import Change, Member
from services.reporting.domain.indicators import indicator
from services.reporting.domain.rules import County, flow

__all__ = ["audit_completed"]

IRRATIONAL_RATE = indicator("irrational_prescription_rate")
AUDITED = indicator("audit_prescriptions_reviewed")


def audit_completed(data: AuditCompleted, member: Member, county: County) -> list[Change]:
    """The member's month: irrational over reviewed, and the prescriptions reviewed, in the
    audited month (any day of it names the month: the indicators have no day cells)."""
    year, month = (int(part) for part in data.month.split("-"))
    day = date(year, month, 1)
    place = county.place(member)
    return flow(
        IRRATIONAL_RATE, place, day, Decimal(data.irrational), Decimal(data.reviewed)
    ) + flow(AUDITED, place, day, Decimal(data.reviewed))
