"""CHECK constraints evaluated by a synthetic SQLite database; an expression it cannot run is unchecked."""

from __future__ import annotations

import sqlite3

import pandas as pd

from dbsynth.metadata.records import CheckConstraint, Column, Metadata, Table
from dbsynth.report import evaluate
from dbsynth.report.checks import check_constraints


def _metadata() -> Metadata:
    table = Table(
        "t",
        [Column("id", type="integer", sdtype="id", nullable=False), Column("n", type="integer", sdtype="numerical")],
        primary_key=["id"],
        check_constraints=[
            CheckConstraint("n >= 0", name="n_positive"),
            CheckConstraint("n <= 100", name=None),
            CheckConstraint("n::int > 0 AND regexp_like(n, '^[0-9]+$')", name="pg_only"),
        ],
    )
    return Metadata({"t": table}, dialect="postgresql")


def test_sqlite_target_counts_violations_and_reports_unchecked(tmp_path):
    path = tmp_path / "synth.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER)")
        conn.executemany("INSERT INTO t VALUES (?, ?)", [(1, -1), (2, 5), (3, 500), (4, None), (5, -7)])
    checks = check_constraints(f"sqlite:///{path}", _metadata())
    assert [(c.target, c.rows, c.violations, c.unchecked is None) for c in checks] == [
        ("n_positive", 5, 2, True),
        ("n <= 100", 5, 1, True),  # unnamed: the expression names it
        ("pg_only", 0, 0, False),
    ]
    assert "cannot evaluate" in checks[2].unchecked
    assert "500" not in checks[2].unchecked  # never a row value


def test_evaluate_adds_checks_only_for_a_database_target(tmp_path):
    path = tmp_path / "synth.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER)")
        conn.executemany("INSERT INTO t VALUES (?, ?)", [(1, 1), (2, 2)])
    real = {"t": pd.DataFrame({"id": [1, 2], "n": [1, 2]})}
    by_url = evaluate(real, f"sqlite:///{path}", _metadata())
    assert [c.target for c in by_url.validity if c.kind == "check"] == ["n_positive", "n <= 100", "pg_only"]
    assert by_url.properties["validity"] == 1.0  # the unchecked one does not count against it
    by_frames = evaluate(real, {"t": real["t"].copy()}, _metadata())
    assert not [c for c in by_frames.validity if c.kind == "check"]


def test_html_lists_unchecked_constraints(tmp_path):
    from dbsynth.report.render import render_html

    path = tmp_path / "synth.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER)")
        conn.executemany("INSERT INTO t VALUES (?, ?)", [(1, -1), (2, 2)])
    page = render_html(evaluate({"t": pd.DataFrame({"id": [1, 2], "n": [1, 2]})}, f"sqlite:///{path}", _metadata()))
    assert "1 CHECK constraint(s) could not be evaluated" in page and "pg_only" in page
    assert "n_positive" in page and "1 of 2" in page  # the broken one is listed with its count
