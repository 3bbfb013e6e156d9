"""Write a :class:`~dbsynth.report.metrics.QualityReport` as ``report.json`` and a self-contained ``report.html``.

The HTML has no external asset (no script, no stylesheet link, no font), so it reads offline and can be
attached to a CI run. Score bars are plain CSS; plots (:mod:`dbsynth.report.plots`) are PNG images embedded as
``data:`` URIs. The page is a Jinja2 template (:mod:`dbsynth.report.templates`) rendered with autoescape: this
module only gathers the values it shows.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import jinja2

from ..errors import DbsynthError
from .metrics import QUALITY_PROPERTIES, QualityReport, Score, TablePrivacy
from .plots import table_images
from .rule_scores import ORIGINS, by_origin, failing, scored
from .templates import TEMPLATES

_LABELS = {
    "column_shapes": "Column shapes",
    "column_pair_trends": "Column pair trends",
    "cardinality": "Cardinality",
    "intertable_trends": "Inter-table trends",
    "generated_columns": "Generated columns (PII, text, keys)",
    "validity": "Validity",
    "privacy": "Privacy (rows not copied)",
    "rules": "Rules kept (declared, discovered, user)",
}
#: Properties whose scores are listed one per column or relationship under each table.
_DETAILED = ("column_shapes", "generated_columns", "cardinality")

@dataclass
class TableSection:
    """What the page shows for one table (values only: the template escapes and formats them)."""

    name: str
    """The table's name."""
    properties: list[tuple[str, float]]
    """``(label, score)`` of each property scored for this table."""
    details: list[Score]
    """Per-column and per-relationship scores (column shapes, generated columns, cardinality)."""
    images: list[tuple[str, str]]
    """``(caption, base64 PNG)`` of the table's plots."""
    privacy: TablePrivacy | None
    """The table's privacy findings, when measured."""


@dataclass
class RuleRow:
    """One rule as the page lists it."""

    name: str
    """Its stable id (what the config switches off)."""
    kind: str
    description: str
    kept: int
    total: int
    share: float
    failing: bool
    """Some synthetic row breaks it (highlighted, listed first)."""
    detail: str
    """Why it could not be scored; empty when it was."""


@dataclass
class RuleGroup:
    """The rules of one origin (declared, discovered, user)."""

    heading: str
    rows: list[RuleRow]
    kept: int
    """Rules of the group kept in every synthetic row."""
    scored: int
    """Rules of the group that could be scored."""


def _rule_groups(report: QualityReport) -> list[RuleGroup]:
    out = []
    for origin, scores in by_origin(report.rules).items():
        rows = [RuleRow(s.rule.name, str(s.rule.kind), s.rule.describe(), s.kept, s.total, s.share,
                        not s.detail and s.kept < s.total, s.detail) for s in scores]
        ok = scored(scores)
        out.append(RuleGroup(ORIGINS[origin], rows, len(ok) - len(failing(ok)), len(ok)))
    return out


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _count(n: int) -> str:
    return f"{n:,}"


def _auc(value: float | None) -> str:
    # an AUC, not a share: 0.5 is the best value, so it reads as a number rather than a percentage
    return "n/a" if value is None else f"{value:.3f}"


def _kept_pct(kept: int, total: int) -> str:
    # rounded down in integers, so that a rule broken in 1 row of 100,000 does not read 100.0%
    return f"{(kept * 1000 // total) / 10 if total else 100.0:.1f}%"


@functools.cache
def _environment() -> jinja2.Environment:
    # autoescape for every template: names and constraint texts come from the database and are shown as text.
    env = jinja2.Environment(
        loader=jinja2.DictLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["pct"] = _pct
    env.filters["count"] = _count
    env.filters["auc"] = _auc
    env.filters["kept_pct"] = _kept_pct
    return env


def _section(report: QualityReport, table: str, privacy: TablePrivacy | None) -> TableSection:
    scored = [(prop, report.property_score(prop, table)) for prop in (*QUALITY_PROPERTIES, "generated_columns")]
    return TableSection(
        name=table,
        properties=[(_LABELS[prop], value) for prop, value in scored if value is not None],
        details=[s for s in report.scores if s.table == table and s.property in _DETAILED],
        images=table_images(report.plots.get(table)),
        privacy=privacy,
    )


def render_html(report: QualityReport, title: str = "dbsynth quality report") -> str:
    """The report as one self-contained HTML page: summary scores and detection first, the rules, then one
    section per table.

    Args:
        report: what :func:`dbsynth.report.evaluate` returned.
        title: the page title (escaped).

    Returns:
        The HTML text.
    """
    privacy = {p.table: p for p in report.privacy}
    checked = [c for c in report.validity if c.unchecked is None]
    rules = scored(report.rules)
    return _environment().get_template("report.html.j2").render(
        title=title,
        overall=report.overall,
        summary=[(_LABELS.get(prop, prop), value) for prop, value in report.properties.items()],
        detection=report.detection,
        detection_auc=report.detection_auc,
        tables=[_section(report, table, privacy.get(table)) for table in report.tables],
        checked=checked,
        failed=[c for c in checked if c.violations],
        unchecked=[c for c in report.validity if c.unchecked is not None],
        rule_groups=_rule_groups(report),
        rules_scored=len(rules),
        rules_failing=len(failing(rules)),
        rules_unscored=len(report.rules) - len(rules),
    )


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
