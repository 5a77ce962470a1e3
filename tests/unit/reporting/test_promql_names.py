"""The PromQL name finder the dashboard and alert checks rely on: it must find every metric
a query selects, and nothing else."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.promql import dashboard_queries, exported_names, metric_names


def test_names_in_functions_aggregations_and_selectors() -> None:
    found = metric_names(
        "histogram_quantile(0.99, sum by (le, topic) (rate(x_consume_batch_seconds_bucket[5m])))"
        ' / on(job) group_left(instance) x_outbox_pending{topic=~"a|b", le!="1"} offset 5m'
        " > bool 1e3 and day_of_year() / (365 + (year() % 4 == bool 0))"
    )
    assert found.names == {"x_consume_batch_seconds_bucket", "x_outbox_pending"}
    assert not found.regexes
    regex = metric_names('sum({__name__=~"(a|b)_events_dead_lettered_total", job="a"}[10m])')
    assert regex.names == set() and regex.regexes == {"(a|b)_events_dead_lettered_total"}
    assert metric_names('{__name__="plain_total"}').names == {"plain_total"}


def test_exported_names_include_declared_families_without_samples() -> None:
    text = "\n".join(
        [
            "# HELP a_events_total d",
            "# TYPE a_events_total counter",
            "# HELP a_lat d",
            "# TYPE a_lat histogram",
            'a_gauge{x="1"} 2.0',
        ]
    )
    assert exported_names(text) >= {
        "a_events_total",
        "a_lat_bucket",
        "a_lat_count",
        "a_lat_sum",
        "a_gauge",
    }


def test_dashboard_queries_expand_custom_variables(tmp_path: Path) -> None:
    board = {
        "templating": {
            "list": [
                {"name": "svc", "type": "custom", "query": "a,b", "options": []},
                {
                    "name": "f",
                    "type": "query",
                    "query": {"query": "label_values(a_gauge, facility)"},
                },
            ]
        },
        "panels": [
            {
                "title": "row",
                "type": "row",
                "panels": [
                    {
                        "title": "p",
                        "targets": [{"expr": 'rate(${svc}_x_total{f=~"$f"}[$__rate_interval])'}],
                    }
                ],
            }
        ],
    }
    path = tmp_path / "d.json"
    path.write_text(json.dumps(board))
    exprs = sorted(q.expr for q in dashboard_queries(path))
    assert exprs == [
        "a_gauge",
        "a_gauge",
        'rate(a_x_total{f=~"placeholder"}[5m])',
        'rate(b_x_total{f=~"placeholder"}[5m])',
    ]
