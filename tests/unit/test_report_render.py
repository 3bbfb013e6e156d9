"""report.json and report.html written from a report on hand-made data."""

from __future__ import annotations

import json

import pandas as pd

from dbsynth.metadata.records import Column, Metadata, Table
from dbsynth.report import evaluate
from dbsynth.report.render import render_html, write_report


def _report():
    md = Metadata({"t<x>": Table("t<x>", [Column("n", type="float", sdtype="numerical"), Column("c", sdtype="categorical")])})
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
    assert "<script" not in page and "http" not in page
    assert "secret" not in page


def test_html_lists_failed_validity_checks():
    md = Metadata({"t": Table("t", [Column("id", type="integer", sdtype="id", nullable=False)], primary_key=["id"])})
    report = evaluate({"t": pd.DataFrame({"id": [1, 2]})}, {"t": pd.DataFrame({"id": [1, 1]})}, md)
    assert "1 of 2" in render_html(report)
