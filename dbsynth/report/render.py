"""Write a :class:`~dbsynth.report.metrics.QualityReport` as ``report.json`` and a self-contained ``report.html``.

The HTML has no external asset (no script, no stylesheet link, no font), so it reads offline and can be
attached to a CI run. Score bars are plain CSS; plots (:mod:`dbsynth.report.plots`) are PNG images embedded as
``data:`` URIs.
"""

from __future__ import annotations

import html
from pathlib import Path

from ..errors import DbsynthError
from .metrics import QUALITY_PROPERTIES, QualityReport
from .plots import table_images

_LABELS = {
    "column_shapes": "Column shapes",
    "column_pair_trends": "Column pair trends",
    "cardinality": "Cardinality",
    "intertable_trends": "Inter-table trends",
    "generated_columns": "Generated columns (PII, text, keys)",
    "validity": "Validity",
    "privacy": "Privacy (rows not copied)",
}

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:0.5em 0 1.5em}
td,th{border:1px solid #ccc;padding:0.25em 0.6em;text-align:left}
.bar{display:inline-block;height:0.8em;background:#4a8;vertical-align:middle}
.low{background:#d64}
.num{text-align:right;font-variant-numeric:tabular-nums}
figure{margin:0.5em 0 1.5em}
figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:0.9em;color:#555}
"""


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _bar(value: float | None) -> str:
    if value is None:
        return ""
    cls = "bar low" if value < 0.7 else "bar"
    return f'<span class="{cls}" style="width:{value * 10:.1f}em"></span>'


def _row(*cells: str) -> str:
    return "<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"


def render_html(report: QualityReport, title: str = "dbsynth quality report") -> str:
    """The report as one self-contained HTML page: summary scores first, then one section per table.

    Args:
        report: what :func:`dbsynth.report.evaluate` returned.
        title: the page title (escaped).

    Returns:
        The HTML text.
    """
    e = html.escape
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{e(title)}</title><style>{_STYLE}</style></head><body>"]
    parts.append(f"<h1>{e(title)}</h1>")
    parts.append(f'<h2 id="summary">Summary: overall quality <span id="overall">{_fmt(report.overall)}</span></h2>')
    parts.append("<table><tr><th>Property</th><th>Score</th><th></th></tr>")
    for prop, value in report.properties.items():
        parts.append(_row(e(_LABELS.get(prop, prop)), f'<span class="num">{_fmt(value)}</span>', _bar(value)))
    parts.append("</table>")
    parts.append("<p>Overall quality is the mean of the modelled properties; generated columns, validity and "
                 "privacy are shown apart so that Faker-made columns do not hide the modelling quality. Generated "
                 "columns are compared by the length of their values (bytes for binary and geometry values, items "
                 "for arrays) and their share of NULLs, not by the values.</p>")

    privacy = {p.table: p for p in report.privacy}
    for table in report.tables:
        parts.append(f"<h2>Table {e(table)}</h2><table><tr><th>Property</th><th>Score</th><th></th></tr>")
        for prop in (*QUALITY_PROPERTIES, "generated_columns"):
            value = report.property_score(prop, table)
            if value is not None:
                parts.append(_row(e(_LABELS[prop]), _fmt(value), _bar(value)))
        parts.append("</table>")
        details = [s for s in report.scores if s.table == table and s.property in ("column_shapes", "generated_columns", "cardinality")]
        if details:
            parts.append("<table><tr><th>Column / relationship</th><th>Metric</th><th>Score</th></tr>")
            for s in details:
                parts.append(_row(e(", ".join(s.columns)), e(s.metric), _fmt(s.score)))
            parts.append("</table>")
        for caption, png in table_images(report.plots.get(table)):
            parts.append(f'<figure><img alt="{e(caption)} ({e(table)})" src="data:image/png;base64,{png}">'
                         f"<figcaption>{e(caption)}</figcaption></figure>")
        if table in privacy:
            p = privacy[table]
            rare = ", ".join(f"{e(c)}: {n}" for c, n in p.rare_labels.items()) or "none"
            parts.append(f"<p>Privacy: {p.identical_rows:,} of {p.synthetic_rows:,} synthetic rows "
                         f"({_fmt(p.identical_share)}) copy a real row; rare real labels reappearing: {rare}; "
                         f"distance-to-closest-record ratio: {'n/a' if p.dcr_ratio is None else f'{p.dcr_ratio:.2f}'} "
                         "(about 1 is good, near 0 means synthetic rows sit on real ones).</p>")

    checked = [c for c in report.validity if c.unchecked is None]
    failed = [c for c in checked if c.violations]
    unchecked = [c for c in report.validity if c.unchecked is not None]
    parts.append(f"<h2>Validity</h2><p>{len(checked) - len(failed)} of {len(checked)} checks pass.</p>")
    if failed:
        parts.append("<table><tr><th>Table</th><th>Check</th><th>Target</th><th>Violations</th></tr>")
        for c in failed:
            parts.append(_row(e(c.table), e(c.kind), e(c.target), f"{c.violations:,} of {c.rows:,}"))
        parts.append("</table>")
    if unchecked:
        parts.append(f"<p>{len(unchecked)} CHECK constraint(s) could not be evaluated by the synthetic database:</p>")
        parts.append("<table><tr><th>Table</th><th>Constraint</th><th>Why</th></tr>")
        for c in unchecked:
            parts.append(_row(e(c.table), e(c.target), e(c.unchecked)))
        parts.append("</table>")
    parts.append("</body></html>\n")
    return "\n".join(parts)


def write_report(report: QualityReport, out_dir: str | Path) -> tuple[Path, Path]:
    """Write ``report.json`` and ``report.html`` into ``out_dir`` (created if missing).

    Returns:
        The paths of the JSON and HTML files.

    Raises:
        DbsynthError: when the directory cannot be created or written.
    """
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
        json_path, html_path = out / "report.json", out / "report.html"
        json_path.write_text(report.to_json() + "\n", encoding="utf-8")
        html_path.write_text(render_html(report), encoding="utf-8")
    except OSError as exc:
        raise DbsynthError(f"cannot write the report into {out} ({exc.strerror})") from None
    return json_path, html_path
