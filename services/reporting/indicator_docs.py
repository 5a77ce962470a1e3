"""Generate ``docs/indicators.md`` from the indicator definitions:
``python -m services.reporting.indicator_docs`` (``make docs`` runs it).

A contract test regenerates it and fails when the committed file differs.
"""

from __future__ import annotations

from libs.events.registry import registry
from services.reporting.domain.indicators import INDICATORS, Behaviour, Indicator

__all__ = ["render"]


def _formula(ind: Indicator) -> str:
    if ind.percentile is not None:
        return (
            f"the {ind.percentile}th percentile (nearest rank) of the durations, kept as the "
            "numerator (not summed level by level: ranked at each unit)"
        )
    if ind.denominator is None:
        return "numerator" + ("" if ind.factor == 1 else f" × {ind.factor}")
    return "numerator ÷ denominator" + ("" if ind.factor == 1 else f" × {ind.factor}")


def _section(ind: Indicator) -> list[str]:
    sources = ", ".join(f"`{registry.for_payload(s).type}`" for s in ind.sources)
    behaviour = (
        "flow — the events dated in the period are summed; a period without data had none"
        if ind.behaviour is Behaviour.FLOW
        else "level — how things stood at the end of the period; a period without a change "
        "carries the level before it"
    )
    if ind.percentile is not None:
        behaviour = (
            "flow — the durations dated in the period are ranked; a period without one has no value"
        )
    lines = [
        f'<a id="{ind.code}"></a>',
        "",
        f"### `{ind.code}` — {ind.name} ({ind.name_zh})",
        "",
        "| | |",
        "|---|---|",
        f"| numerator | {ind.numerator} |",
        f"| denominator | {ind.denominator or '— (a count or an amount)'} |",
        f"| value | {_formula(ind)}, in {ind.unit}, {ind.decimals} decimal places |",
        f"| levels | {', '.join(level.value for level in ind.levels)} |",
        f"| periods | {', '.join(kind.value for kind in ind.periods)} (county time) |",
        f"| dated by | {ind.dated_by} |",
        f"| behaviour | {behaviour} |",
        f"| sources | {sources} |",
        "",
        f"Levels: {ind.levels_why}",
    ]
    if ind.notes:
        lines += ["", ind.notes]
    return [*lines, ""]


def render() -> str:
    """The Markdown text of ``docs/indicators.md``."""
    out = [
        "# Indicator catalogue",
        "",
        "Generated from `services/reporting/domain/indicators.py` by `make docs` "
        "(`python -m services.reporting.indicator_docs`); a contract test fails when this "
        "file is stale. How the reporting service computes and serves them: "
        "[reporting.md](reporting.md).",
        "",
        "Each indicator follows DHIS2's model: a numerator, a denominator and a factor, "
        "computed per organisation unit (facility, community, county) and per period (a day "
        "or a month of the county's calendar). The value of a cell is "
        "numerator ÷ denominator × factor (numerator × factor without a denominator); it is "
        "undefined while the denominator is 0.",
        "",
        "| code | indicator | value | levels |",
        "|---|---|---|---|",
    ]
    for ind in INDICATORS:
        out.append(
            f"| [`{ind.code}`](#{ind.code}) | {ind.name} ({ind.name_zh}) | "
            f"{ind.unit} | {', '.join(level.value for level in ind.levels)} |"
        )
    out.append("")
    out += ["## Definitions", ""]
    for ind in INDICATORS:
        out += _section(ind)
    return "\n".join(out).rstrip() + "\n"


if __name__ == "__main__":
    print(render(), end="")
