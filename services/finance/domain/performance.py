"""Performance pay (绩效): appraisal points for work, and the fund split by points to the cent.

Points come from expert sessions delivered at members (resources sent down, 资源下沉) and
from referrals handled. Referral events name facilities, not clinicians, so a referral's
points go to the facility's team, for the facility to split among its staff (二次分配).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from math import floor
from typing import TypeVar

from libs.events.payload import cents
from services.finance.domain import accounts as acc
from services.finance.domain.journal import ZERO, Book, Line, cr, dr
from services.finance.domain.policy import PerformancePolicy, PointWeights

__all__ = [
    "Allocation",
    "allocate",
    "allocation",
    "fund_amount",
    "pay_lines",
    "session_points",
    "team_of",
]

K = TypeVar("K", bound=Hashable)
#: A recipient of performance pay: a staff member (or a team) at a facility.
Earner = tuple[str, str]
_POINT = Decimal("0.01")


def team_of(facility_id: str) -> str:
    """The pseudo-staff id that holds a facility's team points."""
    return f"TEAM-{facility_id}"[:64]


def session_points(weights: PointWeights, patients_seen: int, home_visits: int) -> Decimal:
    """The points of one delivered session."""
    raw = weights.session + weights.patient_seen * patients_seen + weights.home_visit * home_visits
    return raw.quantize(_POINT)


def fund_amount(special_fund: Decimal, share: Decimal) -> Decimal:
    return cents(special_fund * share)


def allocate(
    fund: Decimal, points: Mapping[K, Decimal], order: Mapping[K, str]
) -> dict[K, Decimal]:
    """Split ``fund`` in proportion to ``points`` so the parts add up to it exactly.

    Largest remainder: everyone gets the floor of their exact share in cents; the cents left
    over go one each to the largest fractional remainders, ties broken by ``order`` (a
    stable text key per recipient), so the same input always gives the same split.
    Recipients with no points get nothing; with no points at all nothing is allocated.
    """
    earning = {k: p for k, p in points.items() if p > 0}
    total = sum(earning.values(), Decimal(0))
    if not earning or fund <= 0:
        return {}
    fund_cents = int(fund * 100)
    exact = {k: Fraction(fund_cents) * Fraction(p) / Fraction(total) for k, p in earning.items()}
    floors = {k: floor(v) for k, v in exact.items()}
    left = fund_cents - sum(floors.values())
    by_remainder = sorted(earning, key=lambda k: (-(exact[k] - floors[k]), order[k]))
    for k in by_remainder[:left]:
        floors[k] += 1
    return {k: Decimal(c).scaleb(-2) for k, c in floors.items()}


def pay_lines(pool: Book, per_member: Mapping[Book, Decimal]) -> list[Line]:
    """The pool pays performance pay out of the special fund to each member, which owes it
    to its staff through its payroll."""
    total = sum(per_member.values(), ZERO)
    lines = [dr(pool, acc.PERFORMANCE_PAY, total), cr(pool, acc.POOL_BANK, total)]
    for member, amount in sorted(per_member.items(), key=lambda kv: kv[0].sort_key):
        lines += [
            dr(member, acc.BANK, amount),
            cr(member, acc.PERFORMANCE_PAY_PAYABLE, amount),
        ]
    return lines


@dataclass(frozen=True)
class Allocation:
    """One community's performance fund for a period, split among its earners."""

    community_id: str
    special_fund: Decimal
    fund: Decimal
    points: Mapping[Earner, Decimal]
    shares: Mapping[Earner, Decimal]

    @property
    def paid(self) -> Decimal:
        """What is paid out: with no points there is nobody to pay, and the fund stays in
        the special fund."""
        return self.fund if self.shares else ZERO

    @property
    def total(self) -> Decimal:
        return sum(self.shares.values(), ZERO)

    def per_member(self) -> dict[Book, Decimal]:
        """The shares added up per member facility, whose payroll pays its staff."""
        members: dict[Book, Decimal] = defaultdict(lambda: ZERO)
        for (_, facility), amount in self.shares.items():
            members[Book(self.community_id, facility)] += amount
        return dict(members)

    def lines(self) -> list[Line]:
        """The posting of the pay (nothing when nobody earned any)."""
        if not self.shares:
            return []
        return pay_lines(Book.pool(self.community_id), self.per_member())


def allocation(
    community_id: str,
    points: Mapping[Earner, Decimal],
    policy: PerformancePolicy,
    special_fund: Decimal | None = None,
) -> Allocation | None:
    """Split ``community_id``'s fund by ``points``; ``special_fund`` overrides the policy's
    monthly amount. ``None`` when there is neither a fund nor anyone who earned points:
    nothing to record."""
    special = special_fund
    if special is None:
        special = policy.special_fund_per_month.get(community_id, ZERO)
    if not points and not special:
        return None
    fund = fund_amount(special, policy.share_of_special_fund)
    shares = allocate(fund, points, order={key: f"{key[0]}/{key[1]}" for key in points})
    return Allocation(community_id, special, fund, dict(points), shares)
