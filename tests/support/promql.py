"""Metric names in PromQL and in Prometheus exposition text, for checking dashboards and alert
rules against what the services really export.

A small lexer, not a PromQL parser: it removes strings, label matchers, range selectors,
grouping clauses and durations, then every identifier not called as a function and not a
keyword is a metric name. ``{__name__=~"..."}`` selectors are returned as regexes.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "PanelQuery",
    "SelectorNames",
    "dashboard_queries",
    "exported_names",
    "metric_names",
]

KEYWORDS = {
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "bool",
    "and",
    "or",
    "unless",
    "offset",
    "inf",
    "nan",
    "atan2",
}
#: Series Prometheus itself makes for every target; no service exports them.
SYNTHETIC = {"up", "scrape_duration_seconds", "scrape_samples_scraped", "scrape_series_added"}

_IDENT = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")
_NAME_MATCHER = re.compile(r'__name__\s*(=~|=|!~|!=)\s*"((?:[^"\\]|\\.)*)"')
_GROUPING = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")


@dataclass(frozen=True)
class SelectorNames:
    names: frozenset[str]
    regexes: frozenset[str] = frozenset()


def metric_names(expr: str) -> SelectorNames:
    """The metric names (and ``__name__`` regexes) an expression selects."""
    regexes = set()
    names = set()
    for op, value in _NAME_MATCHER.findall(expr):
        value = value.encode().decode("unicode_escape")
        if op == "=~":
            regexes.add(value)
        elif op == "=":
            names.add(value)
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    text = re.sub(r"'(?:[^'\\]|\\.)*'", "''", text)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = re.sub(r"\boffset\s+-?[0-9a-z]+", " ", text)
    text = _GROUPING.sub(" ", text)
    for match in _IDENT.finditer(text):
        word = match.group(0)
        rest = text[match.end() :].lstrip()
        if word.lower() in KEYWORDS or rest.startswith("("):
            continue
        if re.fullmatch(r"[0-9]", text[match.start() - 1 : match.start()] or " "):
            continue  # the unit of a number such as 1e3 or 5m
        names.add(word)
    return SelectorNames(frozenset(names), frozenset(regexes))


def exported_names(exposition: str) -> set[str]:
    """Every series name an exposition declares or carries, including the series of
    declared families that have no samples yet (a counter's ``_total``, a histogram's
    ``_bucket``/``_count``/``_sum``)."""
    names: set[str] = set()
    for line in exposition.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            names.add(name)
            if kind == "counter":
                base = name.removesuffix("_total")
                names |= {base + "_total", base + "_created"}
            elif kind in ("histogram", "summary"):
                names |= {name + s for s in ("_count", "_sum", "_created")}
                if kind == "histogram":
                    names.add(name + "_bucket")
        elif line and not line.startswith("#"):
            names.add(re.split(r"[{ ]", line, maxsplit=1)[0])
    return names


@dataclass(frozen=True)
class PanelQuery:
    dashboard: str
    panel: str
    expr: str
    variables: dict[str, str] = field(default_factory=dict)


def _variables(dashboard: dict[str, Any]) -> dict[str, list[str]]:
    """Each variable's values to try: a custom variable's options; a query variable's
    values are label values, which name no metric, so one placeholder stands for them."""
    found: dict[str, list[str]] = {}
    for var in dashboard.get("templating", {}).get("list", []):
        if var.get("type") == "custom":
            found[var["name"]] = [o["value"] for o in var.get("options", [])] or var["query"].split(
                ","
            )
        else:
            found[var["name"]] = ["placeholder"]
    return found


def _expand(expr: str, values: dict[str, str]) -> str:
    expr = re.sub(r"\$__(rate_)?interval\b|\$\{__(rate_)?interval\}", "5m", expr)
    for name, value in values.items():
        expr = expr.replace("${" + name + "}", value).replace("$" + name, value)
    return expr


def dashboard_queries(path: Path) -> Iterator[PanelQuery]:
    """Every PromQL query of a dashboard (panels, nested panels, query variables), once per
    combination of its custom variables' values."""
    dashboard = json.loads(path.read_text(encoding="utf-8"))
    variables = _variables(dashboard)
    names = list(variables)
    combinations = [
        dict(zip(names, combo, strict=True))
        for combo in itertools.product(*(variables[n] for n in names))
    ] or [{}]

    def panels(items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for panel in items:
            yield panel
            yield from panels(panel.get("panels", []))

    raw: list[tuple[str, str]] = []
    for panel in panels(dashboard.get("panels", [])):
        raw += [(panel["title"], t["expr"]) for t in panel.get("targets", []) if t.get("expr")]
    for var in dashboard.get("templating", {}).get("list", []):
        if var.get("type") == "query":
            query = var["query"]["query"] if isinstance(var["query"], dict) else var["query"]
            inner = re.fullmatch(r"label_values\((.*),\s*\w+\)", query.strip())
            raw.append((f"variable {var['name']}", inner.group(1) if inner else query))
    for title, expr in raw:
        for values in combinations:
            yield PanelQuery(path.name, title, _expand(expr, values), values)
