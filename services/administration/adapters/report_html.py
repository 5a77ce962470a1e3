"""The appraisal report as one printable HTML page in Chinese (绩效考核报告).

Self-contained on purpose: inline CSS with a print stylesheet and no external asset, so the
page prints and archives as it is. Jinja2's autoescape escapes every value (names, reasons,
comments come from people and configuration).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from jinja2 import Environment

from services.administration.service_layer.report import AppraisalReport

__all__ = ["render_html"]

DASH = "—"

_TEMPLATE = """<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ r.title }}</title>
<style>
body { font-family: "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", sans-serif;
       margin: 2em; color: #222; font-size: 14px; }
h1 { font-size: 1.5em; margin-bottom: .2em; }
h2 { font-size: 1.2em; margin-top: 1.6em; border-bottom: 1px solid #999; }
table { border-collapse: collapse; width: 100%; margin: .6em 0; }
th, td { border: 1px solid #999; padding: .25em .5em; vertical-align: top; }
th { background: #eee; text-align: center; }
td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.off td { color: #777; }
.meta dt { float: left; clear: left; width: 7em; font-weight: bold; }
.meta dd { margin-left: 7em; }
.note { color: #555; font-size: .9em; }
@media print {
  body { margin: 0; font-size: 10pt; }
  th { background: none; }
  thead { display: table-header-group; }
  tr, .member { page-break-inside: avoid; }
  .member { page-break-before: always; }
  a { color: inherit; text-decoration: none; }
}
@page { size: A4 landscape; margin: 12mm; }
</style>
</head>
<body>
<h1>{{ r.title }}</h1>
<dl class="meta">
<dt>考核期</dt><dd>{{ r.period }}</dd>
<dt>版本</dt><dd>第 {{ r.revision }} 版</dd>
<dt>状态</dt><dd>{{ r.state_name }}</dd>
<dt>起草</dt><dd>{{ r.drafted_by }}，{{ r.drafted_at | when }}</dd>
<dt>批准</dt><dd>{% if r.approved_by %}{{ r.approved_by }}，{{ r.approved_at | when }}\
{% else %}未批准{% endif %}</dd>
{% if r.correction_reason %}<dt>更正原因</dt><dd>{{ r.correction_reason }}</dd>{% endif %}
</dl>

<h2>汇总</h2>
<table>
<thead><tr>
<th>单位编码</th><th>单位名称</th><th>医共体</th><th>单位类型</th>
{% for code, name in r.dimensions %}<th>{{ name }}</th>{% endfor %}
<th>计算得分</th><th>调整分</th><th>调整原因</th><th>最终得分</th>
</tr></thead>
<tbody>
{% for m in r.members %}<tr>
<td>{{ m.facility_id }}</td><td>{{ m.name }}</td>
<td>{{ m.community_name }}（{{ m.community_id }}）</td><td>{{ m.facility_type_name }}</td>
{% for code, name in r.dimensions %}<td class="n">{{ m.dimension_scores.get(code) | num }}</td>\
{% endfor %}
<td class="n">{{ m.computed | num }}</td><td class="n">{{ m.adjustment | num }}</td>
<td>{{ m.adjustment_reason or "" }}</td><td class="n"><strong>{{ m.total | num }}</strong></td>
</tr>
{% endfor %}</tbody>
</table>
<p class="note">维度得分为该维度各指标得分之和；计算得分 = 计入指标得分之和 ÷ 计入指标权重之和 × 100
（不适用或无数据的指标不计入）；最终得分 = 计算得分 + 调整分（0–100）。</p>

{% for m in r.members %}<section class="member">
<h2>{{ m.name }}（{{ m.facility_id }}）指标明细</h2>
<table>
<thead><tr><th>维度</th><th>指标</th><th>数值</th><th>分子</th><th>分母</th><th>权重</th>
<th>得分</th><th>说明</th></tr></thead>
<tbody>
{% for l in m.lines %}<tr{% if l.reason %} class="off"{% endif %}>
<td>{{ l.dimension_name }}</td><td>{{ l.name }}</td>
<td class="n">{{ l.figure | num }}</td><td class="n">{{ l.numerator | num }}</td>
<td class="n">{{ l.denominator | num }}</td><td class="n">{{ l.weight | num }}</td>
<td class="n">{% if l.reason %}—{% else %}{{ l.score | num }}{% endif %}</td>
<td>{{ l.reason or "" }}</td>
</tr>
{% endfor %}</tbody>
</table>
<p>计算得分 {{ m.computed | num }}，调整分 {{ m.adjustment | num }}\
{% if m.adjustment_reason %}（{{ m.adjustment_reason }}）{% endif %}，\
最终得分 <strong>{{ m.total | num }}</strong></p>
</section>
{% endfor %}
</body>
</html>
"""


def _num(value: Decimal | None) -> str:
    return DASH if value is None else str(value)


def _when(instant: datetime | None) -> str:
    if instant is None:
        return DASH
    return f"{instant:%Y-%m-%d %H:%M}（{instant.tzinfo}）"


_environment = Environment(autoescape=True, keep_trailing_newline=True)
_environment.filters.update(num=_num, when=_when)
_page = _environment.from_string(_TEMPLATE)


def render_html(report: AppraisalReport) -> str:
    """The report as a complete, self-contained HTML document."""
    return _page.render(r=report)
