"""The report on values that are not text or numbers (issue 15): bytes that are not UTF-8, geometry, JSON, arrays,
infinities, +-1.8e308 and dates past the nanosecond range are scored, plotted and rendered without crashing."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from dbsynth.metadata import sdtypes as st
from dbsynth.metadata.records import Column, Metadata, Table
from dbsynth.read import INFINITY_US
from dbsynth.report.metrics import evaluate_frames, value_length, value_text
from dbsynth.report.render import render_html


def _frames(n: int = 60) -> tuple[Metadata, dict[str, pd.DataFrame]]:
    cols = [
        Column("id", st.INTEGER, st.ID, nullable=False),
        Column("raw", st.BINARY, st.UNSUPPORTED),
        Column("shape", st.OTHER, st.UNSUPPORTED),
        Column("doc", st.JSON, st.UNSUPPORTED),
        Column("tags", st.ARRAY, st.UNSUPPORTED, item_type=st.STRING),
        Column("f8", st.FLOAT, st.NUMERICAL),
        Column("d", st.DATE, st.DATETIME),
        Column("kind", st.STRING, st.CATEGORICAL),
    ]
    md = Metadata()
    md.add_table(Table(name="t", columns=cols, primary_key=["id"]))
    days = np.array(["2020-01-01", "9999-12-31", "0001-01-01"] * (n // 3), dtype="datetime64[us]")
    days[::7] = np.datetime64(INFINITY_US, "us")
    frame = pd.DataFrame({
        "id": np.arange(n),
        "raw": pd.Series([b"\xe6\x00\xff" * (i % 4 + 1) if i % 5 else None for i in range(n)], dtype=object),
        "shape": pd.Series([b"\x00\x00\x00\x00\x01\x01\x00\x00\x00" + bytes(16)] * n, dtype=object),
        "doc": pd.Series([{"k": i, "v": [1, 2]} for i in range(n)], dtype=object),
        "tags": pd.Series([["a", "b"][: i % 3] for i in range(n)], dtype=object),
        "f8": [np.inf, -np.inf, 1.7976931348623157e308, -1.7976931348623157e308, np.nan] * (n // 5),
        "d": days,
        "kind": pd.Series([b"\xe6".decode("latin-1"), "x", "y"] * (n // 3), dtype=object),
    })
    return md, {"t": frame}


def test_report_scores_and_renders_odd_values():
    md, real = _frames()
    report = evaluate_frames(md, real, {"t": real["t"].copy()})
    scores = {(s.columns[0], s.metric): s.score for s in report.scores if len(s.columns) == 1}
    for col in ("raw", "shape", "doc", "tags"):
        assert scores[(col, "LengthNulls")] == 1.0, col
    assert scores[("f8", "KSComplement")] == 1.0 and scores[("d", "KSComplement")] == 1.0
    html = render_html(report)
    assert "<img" in html
    json.loads(report.to_json())


def test_generated_binary_scored_on_byte_lengths():
    md, real = _frames()
    synth = real["t"].copy()
    synth["raw"] = pd.Series([b"\x01" * 100] * len(synth), dtype=object)  # every length wrong, no NULL
    report = evaluate_frames(md, real, {"t": synth})
    score = next(s.score for s in report.scores if s.columns == ["raw"])
    assert score < 0.5


def test_value_text_and_length():
    assert value_text(b"\xe6\x00") == "e600"
    assert value_text({"b": 1, "a": [1]}) == '{"a": [1], "b": 1}'
    assert value_length(b"\xe6\x00") == 2 and value_length([1, 2, 3]) == 3 and value_length("abc") == 3
