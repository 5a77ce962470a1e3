"""The county report's charts: an indicator's series as a small line chart drawn on the
server (SVG: nothing to download, nothing run in the browser, printable), and its units in
the county's words."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

__all__ = ["UNITS", "Chart", "chart_of", "shown"]

#: The reporting service's units, as a report says them.
UNITS = {
    "%": "%", "referrals": "人次", "ratio": "", "breaches": "次", "items": "项",
    "shortages": "次", "yuan": "元", "sessions": "次", "patients": "人次", "home visits": "次",
    "physicians": "人", "orders": "单", "results": "份", "episodes": "次", "minutes": "分钟",
    "prescriptions": "张", "deliveries": "次", "dispatches": "次", "hours": "小时",
}  # fmt: skip

WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 360, 140, 44, 22, 10


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    line: str  # the polyline's points
    dots: list[tuple[float, float, str, str]]  # x, y, period, value (each a point's title)
    top_label: str  # the y axis's highest value
    first: str  # the first and last periods, under the x axis
    last: str
    latest: str | None  # the last period's value, for the caption and the reader
    axis_x: float
    axis_y: float


def shown(value: Decimal) -> str:
    """A figure as a report prints it: whole numbers without decimals."""
    return f"{value.normalize():f}" if value == value.to_integral() else f"{value:f}"


def chart_of(points: list[dict[str, Any]]) -> Chart:
    """``points`` as the reporting service's series gives them (period, value or None)."""
    known = [(p["period"], Decimal(str(p["value"]))) for p in points if p["value"] is not None]
    top = max((v for _, v in known), default=Decimal(0))
    top = top if top > 0 else Decimal(1)
    span_x = WIDTH - LEFT - 8
    step = span_x / max(len(points) - 1, 1)
    index = {p["period"]: i for i, p in enumerate(points)}
    dots = []
    for period, value in known:
        x = LEFT + step * index[period]
        y = TOP + (HEIGHT - TOP - BOTTOM) * (1 - float(value / top))
        dots.append((round(x, 1), round(y, 1), period, shown(value)))
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        line=" ".join(f"{x},{y}" for x, y, _, _ in dots),
        dots=dots,
        top_label=shown(top) if known else "",
        first=points[0]["period"] if points else "",
        last=points[-1]["period"] if points else "",
        latest=shown(known[-1][1]) if known and known[-1][0] == points[-1]["period"] else None,
        axis_x=HEIGHT - BOTTOM,
        axis_y=LEFT,
    )
