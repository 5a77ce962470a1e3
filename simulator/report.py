"""The county report: one self-contained HTML page with inline SVG charts, built only from
the reporting service's HTTP API (no JavaScript, nothing fetched by the browser).

For every indicator of the catalogue it shows this month's county value, the daily series
of the last days at county level (and per community where the indicator has one), and this
month's value per facility (or per community) as bars, so a manager sees at a glance where
the county stands and which member lags.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from libs.platform.auth import Role
from simulator.clock import COUNTY_TZ
from simulator.drivers import Api, ApiError, Endpoints, Tokens

__all__ = ["Series", "bar_chart", "line_chart", "render_report", "write_report"]

PALETTE = ("#1f6fb2", "#d9822b", "#2e9e5b", "#b23a48", "#7a5cb8", "#5b8a8a")


@dataclass(frozen=True)
class Series:
    label: str
    points: list[tuple[str, float | None]]  # period, value


def _num(value: Any) -> float | None:
    return None if value is None else float(Decimal(str(value)))


def _fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "—"
    text = f"{value:,.2f}" if abs(value) < 1000 and value != int(value) else f"{value:,.0f}"
    return f"{text}{' %' if unit == '%' else ''}"


def line_chart(series: list[Series], *, unit: str = "", width: int = 560, height: int = 190) -> str:
    """Lines over periods, one per series; an undefined value breaks its line."""
    periods = sorted({p for s in series for p, _ in s.points})
    values = [v for s in series for _, v in s.points if v is not None]
    if not periods or not values:
        return '<p class="empty">no data yet</p>'
    left, right, top, bottom = 52, 22, 12, 28
    top_value = max(values) * 1.1 or 1.0
    low = min(0.0, min(values))

    def x(i: int) -> float:
        span = max(1, len(periods) - 1)
        return left + (width - left - right) * i / span

    def y(v: float) -> float:
        return top + (height - top - bottom) * (1 - (v - low) / (top_value - low or 1))

    parts = [
        f'<svg viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" xmlns="http://www.w3.org/2000/svg">'
    ]
    for k in range(5):  # grid and axis labels
        v = low + (top_value - low) * k / 4
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(v):.1f}" y2="{y(v):.1f}" '
            f'class="grid"/><text x="{left - 6}" y="{y(v) + 4:.1f}" class="axis" '
            f'text-anchor="end">{_fmt(v)}</text>'
        )
    step = max(1, len(periods) // 6)
    for i, period in enumerate(periods):
        if i % step == 0 or i == len(periods) - 1:
            parts.append(
                f'<text x="{x(i):.1f}" y="{height - 8}" class="axis" '
                f'text-anchor="middle">{html.escape(period[5:] or period)}</text>'
            )
    index = {p: i for i, p in enumerate(periods)}
    for n, s in enumerate(series):
        parts += _line(s, PALETTE[n % len(PALETTE)], lambda p: x(index[p]), y, unit)
    parts.append("</svg>")
    if len(series) > 1:
        parts.append(_legend(series))
    return "".join(parts)


def _line(
    s: Series,
    colour: str,
    x: Callable[[str], float],
    y: Callable[[float], float],
    unit: str,
) -> list[str]:
    """One series: a dot per defined value (with its value on hover), joined by a line
    that breaks where a value is undefined rather than bridging the gap."""
    parts: list[str] = []
    runs: list[list[str]] = [[]]
    for period, value in s.points:
        if value is None:
            runs.append([])
            continue
        runs[-1].append(f"{x(period):.1f},{y(value):.1f}")
        parts.append(
            f'<circle cx="{x(period):.1f}" cy="{y(value):.1f}" r="2.5" '
            f'fill="{colour}"><title>{html.escape(s.label)} {period}: '
            f"{_fmt(value, unit)}</title></circle>"
        )
    for run in runs:
        if len(run) > 1:
            parts.append(
                f'<polyline points="{" ".join(run)}" fill="none" stroke="{colour}" '
                f'stroke-width="2"/>'
            )
    return parts


def _legend(series: list[Series]) -> str:
    """The colour key, in the order the lines were drawn (so the palette matches)."""
    keys = "".join(
        f'<span><i style="background:{PALETTE[n % len(PALETTE)]}"></i>{html.escape(s.label)}</span>'
        for n, s in enumerate(series)
    )
    return f'<div class="legend">{keys}</div>'


def bar_chart(bars: list[tuple[str, float | None]], *, unit: str = "", width: int = 560) -> str:
    """Horizontal bars, largest first; a unit without a value shows a dash."""
    shown = sorted(bars, key=lambda b: (b[1] is None, -(b[1] or 0.0)))
    if not shown or all(v is None for _, v in shown):
        return '<p class="empty">no data yet</p>'
    row, label_w, value_w = 18, 190, 70
    height = row * len(shown) + 6
    top = max(v for _, v in shown if v is not None) or 1.0
    parts = [
        f'<svg viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" xmlns="http://www.w3.org/2000/svg">'
    ]
    for i, (label, value) in enumerate(shown):
        y = i * row + 3
        length = 0.0 if value is None else (width - label_w - value_w) * max(value, 0) / top
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 12}" class="label" text-anchor="end">'
            f"{html.escape(label)}</text>"
            f'<rect x="{label_w}" y="{y}" width="{length:.1f}" height="{row - 5}" '
            f'fill="{PALETTE[0]}"><title>{html.escape(label)}: {_fmt(value, unit)}</title></rect>'
            f'<text x="{label_w + length + 4:.1f}" y="{y + 12}" class="axis">'
            f"{_fmt(value, unit)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


_STYLE = """
body{font-family:system-ui,"PingFang SC","Noto Sans CJK SC",sans-serif;margin:24px;color:#222;
background:#f6f7f9}h1{margin:0 0 4px}.meta{color:#666;margin-bottom:18px}
.tiles{display:flex;flex-wrap:wrap;gap:10px;margin-bottom:22px}
.tile{background:#fff;border-radius:8px;padding:10px 14px;min-width:160px;
box-shadow:0 1px 2px #0002}.tile b{display:block;font-size:22px}
.tile span{color:#555;font-size:12px}
section{background:#fff;border-radius:8px;padding:14px 18px;margin-bottom:16px;
box-shadow:0 1px 2px #0002}section h2{font-size:17px;margin:0 0 2px}
.def{color:#666;font-size:12px;margin-bottom:8px}.charts{display:flex;flex-wrap:wrap;gap:24px}
.charts h3{font-size:13px;margin:4px 0;color:#444}.grid{stroke:#e3e3e3}
.axis{font-size:10px;fill:#666}.label{font-size:11px;fill:#333}.empty{color:#999}
.legend span{margin-right:12px;font-size:12px}.legend i{display:inline-block;width:10px;
height:10px;margin-right:4px}table{border-collapse:collapse}td,th{padding:3px 10px;
border-bottom:1px solid #eee;text-align:left}
"""


@dataclass(frozen=True)
class Indicator:
    code: str
    name: str
    name_zh: str
    unit: str
    levels: list[str]
    numerator: str
    denominator: str | None


def _fetch(api: Api, days: int) -> dict[str, Any]:
    """Everything the report shows, read from the reporting API as the management centre."""
    today = datetime.now(UTC).astimezone(COUNTY_TZ).date()
    first = today - timedelta(days=days - 1)
    read: dict[str, Any] = {"role": Role.COUNTY_ADMIN, "actor": "report"}
    catalogue = api.all_items("/indicators", **read)
    indicators = [
        Indicator(
            i["code"],
            i["name"],
            i["name_zh"],
            i["unit"],
            i["levels"],
            i["numerator"],
            i.get("denominator"),
        )
        for i in catalogue
    ]
    data: dict[str, Any] = {"indicators": indicators, "today": today, "per": {}}
    for ind in indicators:
        entry: dict[str, Any] = {}
        daily: dict[str, Any] = {
            "period_kind": "day",
            "from": first.isoformat(),
            "to": today.isoformat(),
        }
        entry["county"] = api.all_items(f"/indicators/{ind.code}/series", level="county",
                                        **daily, **read)  # fmt: skip
        if "community" in ind.levels:
            entry["communities"] = api.all_items(
                f"/indicators/{ind.code}/series", level="community", **daily, **read
            )
        month: dict[str, Any] = {"period_kind": "month"}
        entry["month_county"] = api.all_items(f"/indicators/{ind.code}", level="county",
                                              **month, **read)  # fmt: skip
        bars = "facility" if "facility" in ind.levels else "community"
        if bars in ind.levels:
            entry["bars_level"] = bars
            entry["bars"] = api.all_items(f"/indicators/{ind.code}", level=bars, **month, **read)
        data["per"][ind.code] = entry
    try:
        data["members"] = api.get("/indicators/member-facilities", **read)
    except ApiError:
        data["members"] = []
    return data


def _series(rows: list[dict[str, Any]]) -> list[Series]:
    return [
        Series(
            r["unit_name"] if r["level"] != "county" else "county",
            [(p["period"], _num(p["value"])) for p in r["points"]],
        )
        for r in rows
    ]


def render_report(data: dict[str, Any], *, title: str = "County medical community") -> str:
    """The report's HTML from what :func:`_fetch` read."""
    made = datetime.now(UTC).astimezone(COUNTY_TZ)
    tiles, sections = [], []
    for ind in data["indicators"]:
        entry = data["per"][ind.code]
        now = entry.get("month_county") or []
        value = _num(now[0]["value"]) if now else None
        unit = ind.unit
        tiles.append(
            f'<div class="tile"><span>{html.escape(ind.name_zh)}</span>'
            f"<b>{_fmt(value, unit)}</b><span>{html.escape(ind.name)} · this month"
            f"</span></div>"
        )
        charts = [
            f"<div><h3>County, daily</h3>{line_chart(_series(entry['county']), unit=unit)}</div>"
        ]
        if entry.get("communities"):
            charts.append(
                "<div><h3>Per community, daily</h3>"
                f"{line_chart(_series(entry['communities']), unit=unit)}</div>"
            )
        if "bars" in entry:
            bars = [(r["unit_name"], _num(r["value"])) for r in entry["bars"]]
            charts.append(
                f"<div><h3>Per {entry['bars_level']}, this month</h3>"
                f"{bar_chart(bars, unit=unit)}</div>"
            )
        definition = html.escape(ind.numerator) + (
            f" ÷ {html.escape(ind.denominator)}" if ind.denominator else ""
        )
        sections.append(
            f'<section id="{ind.code}"><h2>{html.escape(ind.name_zh)} — {html.escape(ind.name)}'
            f'</h2><div class="def">{definition} ({html.escape(unit)})</div>'
            f'<div class="charts">{"".join(charts)}</div></section>'
        )
    members = "".join(
        f"<tr><td>{html.escape(str(m.get('community_id')))}</td>"
        f"<td>{html.escape(str(m.get('tier')))}</td><td>{m.get('members')}</td></tr>"
        for m in data.get("members", [])
    )
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)} — county report</title><style>{_STYLE}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>"
        f'<div class="meta">County report, {made:%Y-%m-%d %H:%M} (county time). Built from '
        "the reporting service's indicators; hover a point or bar for its value.</div>"
        f'<div class="tiles">{"".join(tiles)}</div>'
        f"{''.join(sections)}"
        "<section><h2>Member facilities</h2><table><tr><th>community</th><th>tier</th>"
        f"<th>members</th></tr>{members}</table></section></body></html>"
    )


def write_report(endpoints: Endpoints, out: Path, *, days: int = 30) -> Path:
    """Read the indicators over HTTP and write the report to ``out``."""
    api = Api(endpoints.urls["reporting"], Tokens(endpoints))
    try:
        data = _fetch(api, days)
    finally:
        api.close()
    out.write_text(render_report(data), encoding="utf-8")
    return out.resolve()
