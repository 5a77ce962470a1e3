"""Performance pay: the fund split by points, to the cent, deterministically."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from services.finance.domain import performance

D = Decimal


def test_the_spare_cents_go_to_the_largest_remainders_then_by_name() -> None:
    shares = performance.allocate(
        D("100.00"), {"a": D(1), "b": D(1), "c": D(1)}, order={"a": "a", "b": "b", "c": "c"}
    )
    assert shares == {"a": D("33.34"), "b": D("33.33"), "c": D("33.33")}
    shares = performance.allocate(
        D("10.00"), {"x": D("2"), "y": D("1")}, order={"x": "x", "y": "y"}
    )
    assert shares == {"x": D("6.67"), "y": D("3.33")}


def test_nobody_with_points_means_nothing_allocated() -> None:
    assert performance.allocate(D("10.00"), {"a": D(0)}, order={"a": "a"}) == {}


@settings(max_examples=300, deadline=None, database=None)
@given(
    fund=st.integers(min_value=0, max_value=10**12).map(lambda c: D(c).scaleb(-2)),
    points=st.dictionaries(
        st.text(alphabet="abcdefgh", min_size=1, max_size=4),
        st.integers(min_value=0, max_value=10**8).map(lambda p: D(p).scaleb(-2)),
        min_size=1,
        max_size=40,
    ),
)
def test_the_parts_always_add_up_to_the_fund_exactly(fund: Decimal, points: dict) -> None:
    shares = performance.allocate(fund, points, order={k: k for k in points})
    if any(p > 0 for p in points.values()) and fund > 0:
        assert sum(shares.values()) == fund
        total = sum(points.values())
        for key, amount in shares.items():
            exact = fund * points[key] / total
            assert abs(amount - exact) < D("0.01")  # never more than a cent from fair
            assert amount == amount.quantize(D("0.01"))
    else:
        assert shares == {}
    again = performance.allocate(fund, dict(reversed(list(points.items()))), {k: k for k in points})
    assert again == shares  # the order of the input does not matter


def test_session_points_follow_the_weights() -> None:
    from tests.support.finance import finance_policy

    weights = finance_policy().performance_pay.weights
    assert performance.session_points(weights, patients_seen=12, home_visits=1) == D("18.00")
