"""Jinja2 templates of ``report.html``, kept as Python strings so that they ship inside the package as code.

They are loaded through :class:`jinja2.DictLoader` by :mod:`dbsynth.report.render`, with autoescape on: every
value the templates print (table and column names, constraint text, reasons, captions) is escaped, so a name
such as ``<script>`` is shown, never run. Only the markup and the stylesheet written here are raw.
"""

from __future__ import annotations

__all__ = ["REPORT_TEMPLATE", "TEMPLATES"]

#: The whole page. Context: ``title``, ``overall``, ``summary`` (label, score), ``tables``
#: (:class:`~dbsynth.report.render.TableSection`), ``checked``, ``failed`` and ``unchecked`` (validity checks),
#: ``rule_groups`` (:class:`~dbsynth.report.render.RuleGroup`, failing rules first in each), ``rules_scored``,
#: ``rules_failing`` and ``rules_unscored`` (counts of rules), ``detection``
#: (:class:`~dbsynth.report.detection.DetectionScore` per table, empty when not computed) and ``detection_auc``
#: (their mean, or None).
#: Filters (from the renderer): ``pct`` (a score as a percentage, n/a for None), ``kept_pct`` (kept rows over
#: rows as a percentage rounded down, so that a broken rule never reads 100.0%), ``count`` (thousands separators),
#: ``auc`` (an AUC with three decimals, n/a for None).
#: The stylesheet is inline and the plots are data: URIs, so the page has no external asset.
REPORT_TEMPLATE = """\
{% macro bar(value, low=none) %}{% if value is not none %}\
<span class="{{ 'bar low' if (value < 0.7 if low is none else low) else 'bar' }}" \
style="width:{{ '%.1f' % (value * 10) }}em"></span>{% endif %}{% endmacro %}
<!doctype html><html><head><meta charset='utf-8'><title>{{ title }}</title><style>
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:0.5em 0 1.5em}
td,th{border:1px solid #ccc;padding:0.25em 0.6em;text-align:left}
.bar{display:inline-block;height:0.8em;background:#4a8;vertical-align:middle}
.low{background:#d64}
.num{text-align:right;font-variant-numeric:tabular-nums}
table.rules td.num{white-space:nowrap}
tr.fail td{background:#fde8e4}
tr.fail td:first-child{border-left:4px solid #d64}
figure{margin:0.5em 0 1.5em}
figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:0.9em;color:#555}
</style></head><body>
<h1>{{ title }}</h1>
<h2 id="summary">Summary: overall quality <span id="overall">{{ overall | pct }}</span></h2>
<table><tr><th>Property</th><th>Score</th><th></th></tr>
{% for label, value in summary %}
<tr><td>{{ label }}</td><td><span class="num">{{ value | pct }}</span></td><td>{{ bar(value) }}</td></tr>
{% endfor %}
</table>
<p>Overall quality is the mean of the modelled properties; generated columns, validity and privacy are shown \
apart so that Faker-made columns do not hide the modelling quality. Generated columns are compared by the length \
of their values (bytes for binary and geometry values, items for arrays) and their share of NULLs, not by the \
values.</p>
{% if detection %}
<h3 id="detection">Detection (real vs synthetic classifier ROC AUC; 0.5 = indistinguishable): \
<span id="detection-auc">{{ detection_auc | auc }}</span></h3>
<p>Per table, a gradient-boosted classifier learns to tell real rows from synthetic ones on the modelled columns \
(parent tables also on their children's count and means), cross-validated on samples of both sides. 0.5 means it \
cannot tell them apart, 1.0 that every row gives itself away; a value under 0.5 is chance and shown as 0.5. The \
figure above is the mean over the tables scored; it is not part of the overall quality.</p>
<table class="detection"><tr><th>Table</th><th>ROC AUC</th><th>Rows per side</th><th>Features</th></tr>
{% for d in detection %}
<tr><td>{{ d.table }}</td>{% if d.auc is none %}<td colspan="3">not scored: {{ d.detail }}</td>\
{% else %}<td class="num">{{ d.auc | auc }}</td><td class="num">{{ d.rows | count }}</td>\
<td class="num">{{ d.features }}</td>{% endif %}</tr>
{% endfor %}
</table>
{% endif %}
<h2 id="rules">Rules</h2>
{% if rule_groups %}
<p>{{ rules_scored - rules_failing }} of {{ rules_scored }} rules kept in every synthetic row\
{% if rules_failing %}; <strong>{{ rules_failing }} not kept</strong> (highlighted, listed first){% endif %}\
{% if rules_unscored %}; {{ rules_unscored }} could not be scored{% endif %}. Declared rules are the schema's \
CHECK constraints, discovered rules hold in every real row, user rules come from the config or the API.</p>
{% for g in rule_groups %}
<h3>{{ g.heading }}: {{ g.kept }} of {{ g.scored }} kept</h3>
<table class="rules"><tr><th>Rule</th><th>Kind</th><th>Description</th><th>Rows kept</th><th>Share</th>\
<th></th></tr>
{% for r in g.rows %}
<tr{% if r.failing %} class="fail"{% endif %}><td>{{ r.name }}</td><td>{{ r.kind }}</td><td>{{ r.description }}</td>\
{% if r.detail %}<td colspan="3">not scored: {{ r.detail }}</td>\
{% else %}<td class="num">{{ r.kept | count }} of {{ r.total | count }}</td>\
<td class="num">{{ r.kept | kept_pct(r.total) }}</td><td>{{ bar(r.share, low=r.failing) }}</td>{% endif %}</tr>
{% endfor %}
</table>
{% endfor %}
{% else %}
<p>No rule to score: the schema declares no CHECK and none was found in the real rows.</p>
{% endif %}
{% for t in tables %}
<h2>Table {{ t.name }}</h2><table><tr><th>Property</th><th>Score</th><th></th></tr>
{% for label, value in t.properties %}
<tr><td>{{ label }}</td><td>{{ value | pct }}</td><td>{{ bar(value) }}</td></tr>
{% endfor %}
</table>
{% if t.details %}
<table><tr><th>Column / relationship</th><th>Metric</th><th>Score</th></tr>
{% for s in t.details %}
<tr><td>{{ s.columns | join(", ") }}</td><td>{{ s.metric }}</td><td>{{ s.score | pct }}</td></tr>
{% endfor %}
</table>
{% endif %}
{% for caption, png in t.images %}
<figure><img alt="{{ caption }} ({{ t.name }})" src="data:image/png;base64,{{ png }}">\
<figcaption>{{ caption }}</figcaption></figure>
{% endfor %}
{% if t.privacy %}
{% set p = t.privacy %}
<p>Privacy: {{ p.identical_rows | count }} of {{ p.synthetic_rows | count }} synthetic rows \
({{ p.identical_share | pct }}) copy a real row; rare real labels reappearing: \
{% for column, n in p.rare_labels.items() %}{{ column }}: {{ n }}{% if not loop.last %}, {% endif %}\
{% else %}none{% endfor %}; distance-to-closest-record ratio: \
{{ "n/a" if p.dcr_ratio is none else "%.2f" % p.dcr_ratio }} \
(about 1 is good, near 0 means synthetic rows sit on real ones).</p>
{% endif %}
{% endfor %}
<h2>Validity</h2><p>{{ checked | length - failed | length }} of {{ checked | length }} checks pass.</p>
{% if failed %}
<table><tr><th>Table</th><th>Check</th><th>Target</th><th>Violations</th></tr>
{% for c in failed %}
<tr><td>{{ c.table }}</td><td>{{ c.kind }}</td><td>{{ c.target }}</td>\
<td>{{ c.violations | count }} of {{ c.rows | count }}</td></tr>
{% endfor %}
</table>
{% endif %}
{% if unchecked %}
<p>{{ unchecked | length }} CHECK constraint(s) could not be evaluated by the synthetic database:</p>
<table><tr><th>Table</th><th>Constraint</th><th>Why</th></tr>
{% for c in unchecked %}
<tr><td>{{ c.table }}</td><td>{{ c.target }}</td><td>{{ c.unchecked }}</td></tr>
{% endfor %}
</table>
{% endif %}
</body></html>
"""

#: Every template by name, for :class:`jinja2.DictLoader`.
TEMPLATES = {"report.html.j2": REPORT_TEMPLATE}
