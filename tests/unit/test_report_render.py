"""report.json and report.html written from a report on hand-made data."""

from __future__ import annotations

import base64
import json
import re

import numpy as np
import pandas as pd
import pytest

from dbsynth.metadata.records import Column, ForeignKey, Metadata, Table
from dbsynth.report import evaluate, plots
from dbsynth.report.render import render_html, write_report

_IMG = re.compile(r'<img alt="([^"]*)" src="data:image/png;base64,([A-Za-z0-9+/=]+)">')


def _report():
    cols = [Column("n", type="float", sdtype="numerical"), Column("c", sdtype="categorical")]
    md = Metadata({"t<x>": Table("t<x>", cols)})
    real = {"t<x>": pd.DataFrame({"n": [1.0, 2.0, 3.0, 4.0], "c": ["a", "a", "b", "secret"]})}
    synth = {"t<x>": pd.DataFrame({"n": [1.0, 2.0, 9.0, 9.0], "c": ["a", "b", "b", "secret"]})}
    return evaluate(real, synth, md)


def test_write_report_files(tmp_path):
    report = _report()
    json_path, html_path = write_report(report, tmp_path / "out")
    assert json.loads(json_path.read_text())["overall"] == report.overall
    page = html_path.read_text()
    # Summary first, then the table section; names are escaped; no external asset; no row values.
    assert page.index('id="summary"') < page.index("Table t&lt;x&gt;")
    assert f"{report.overall:.1%}" in page
    text = _IMG.sub("", page)  # base64 text could spell anything by chance
    assert "<script" not in text and "http" not in text and "<link" not in text
    assert "secret" not in text


def test_html_lists_failed_validity_checks():
    md = Metadata({"t": Table("t", [Column("id", type="integer", sdtype="id", nullable=False)], primary_key=["id"])})
    report = evaluate({"t": pd.DataFrame({"id": [1, 2]})}, {"t": pd.DataFrame({"id": [1, 1]})}, md)
    assert "1 of 2" in render_html(report)


def _wide() -> tuple[Metadata, dict, dict]:
    """A parent with 12 numeric columns, a rare label and a datetime; a child pointing at it."""
    cols = [Column("id", type="integer", sdtype="id", nullable=False), Column("kind", sdtype="categorical"),
            Column("at", type="timestamp", sdtype="datetime")]
    cols += [Column(f"x{i}", type="float", sdtype="numerical") for i in range(12)]
    parent = Table("p", cols, primary_key=["id"])
    child = Table("c", [Column("id", type="integer", sdtype="id"), Column("pid", type="integer", sdtype="id")],
                  foreign_keys=[ForeignKey(["pid"], "p", ["id"])])
    md = Metadata({"p": parent, "c": child})

    def frames(seed):
        r = np.random.default_rng(seed)
        p = pd.DataFrame({"id": np.arange(60), "kind": ["common"] * 59 + ["only-one"],
                          "at": pd.Timestamp("2020-01-01") + pd.to_timedelta(r.integers(0, 900, 60), "D")})
        for i in range(12):
            p[f"x{i}"] = r.normal(i, 1, 60)
        return {"p": p, "c": pd.DataFrame({"id": np.arange(90), "pid": r.integers(0, 60, 90)})}

    return md, frames(0), frames(1)


def test_plots_are_embedded_png_images_bounded_per_table():
    md, real, synth = _wide()
    page = render_html(evaluate(real, synth, md))
    images = _IMG.findall(page)
    alts = [alt for alt, _ in images]
    # p: distributions + heat map; c: children per parent. Nothing else (keys are not plotted).
    assert len(images) == 3
    assert sum("distributions" in a and "(p)" in a for a in alts) == 1
    assert sum("Correlation" in a and "(p)" in a for a in alts) == 1
    assert sum("Children per parent" in a and "(c)" in a for a in alts) == 1
    for _, data in images:
        assert base64.b64decode(data).startswith(b"\x89PNG\r\n\x1a\n")
    assert "more not drawn" in page  # 14 modelled columns, MAX_PLOT_COLUMNS drawn


def test_plot_summaries_fold_rare_labels_and_cap_columns():
    md, real, synth = _wide()
    data = evaluate(real, synth, md).plots
    drawn = data["p"].distributions
    assert len(drawn) == plots.MAX_PLOT_COLUMNS and data["p"].omitted_columns == 14 - plots.MAX_PLOT_COLUMNS
    kind = next(d for d in drawn if d.title == "kind")
    assert kind.labels == ["common", "(other)"]  # 'only-one' is rare: never drawn
    assert kind.real == [59 / 60, 1 / 60]
    at = next(d for d in drawn if d.title == "at")
    assert at.datetime and len(at.edges) == plots.HIST_BINS + 1 and sum(at.real) == pytest.approx(1.0)
    assert len(data["p"].correlations.columns) == plots.MAX_HEATMAP_COLUMNS
    assert data["p"].correlations.real[0][0] == 1.0
    children = data["c"].children[0]
    assert children.title == "pid -> p" and sum(children.real) == pytest.approx(1.0)
    assert "plots" not in json.loads(evaluate(real, synth, md).to_json())  # summaries stay out of report.json


def test_names_and_constraint_texts_are_escaped_never_markup():
    """Table, column and constraint names come from the database: a <script> in one is shown as text."""
    from html.parser import HTMLParser

    from dbsynth.report.metrics import ValidityCheck

    evil, col = "<script>alert('t')</script>", '<img src=x onerror="alert(1)">'
    md = Metadata({evil: Table(evil, [Column(col, type="float", sdtype="numerical")])})
    report = evaluate({evil: pd.DataFrame({col: [1.0, 2.0, 3.0]})}, {evil: pd.DataFrame({col: [1.0, 2.0, 7.0]})}, md)
    report.validity.append(ValidityCheck(evil, "check", "</td><script>x()</script>", 3, 1))
    report.validity.append(ValidityCheck(evil, "check", "c", 0, 0, unchecked="<b>why</b> & 'how'"))
    page = render_html(report, title="<i>title</i>")

    tags: list[str] = []

    class Tags(HTMLParser):
        def handle_starttag(self, tag, attrs):
            tags.append(tag)
            if tag == "img":  # only the plots' images, whose alt text holds the escaped name
                src, alt = dict(attrs)["src"], dict(attrs)["alt"]
                assert src.startswith("data:image/png;base64,") and alt.endswith(f"({evil})")

    Tags().feed(page)
    assert "script" not in tags and "b" not in tags and "i" not in tags
    assert tags.count("img") == 1  # the plot; the column's <img> is text
    assert "&lt;script&gt;alert(&#39;t&#39;)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in page
    assert "&lt;/td&gt;&lt;script&gt;x()&lt;/script&gt;" in page
    assert "&lt;b&gt;why&lt;/b&gt; &amp; &#39;how&#39;" in page
    assert "<title>&lt;i&gt;title&lt;/i&gt;</title>" in page
