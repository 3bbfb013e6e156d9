"""`dbsynth report` on clones of the torture tables holding every odd type (issue 15, "The report"): binary,
geometry, JSON, arrays, ranges, money, bits, infinities and marker dates are scored or plotted, never a crash
(it was `unexpected UnicodeDecodeError: 'utf-8' codec can't decode byte 0xe6`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from dbsynth import cli

pytestmark = pytest.mark.db

#: The type tables of each torture database (PostgreSQL: schema public).
TABLES = {"postgresql": ["t_numeric", "t_time", "t_misc", "t_custom"],
          "mariadb": ["t_numeric", "t_text", "t_time", "t_misc"],
          "sqlite": ["t_affinity", "t_text"]}
#: Binary or geometry columns whose generated-column score the report must hold.
BINARY = {"postgresql": ("t_misc", "raw"), "mariadb": ("t_misc", "shape"), "sqlite": ("t_affinity", "b")}


@pytest.fixture
def sources(request) -> dict[str, Any]:
    """``sources[dialect]()``: the URL of that dialect's torture database (the session's, see conftest.py)."""
    names = {"postgresql": "pg_torture", "mariadb": "mariadb_torture", "sqlite": "sqlite_torture"}
    return {d: (lambda d=d: request.getfixturevalue(names[d])) for d in TABLES}


def _target(dialect: str, request, tmp_path: Path) -> str:
    if dialect == "postgresql":
        return request.getfixturevalue("pg_database")()
    if dialect == "mariadb":
        return request.getfixturevalue("mariadb_database")()
    return f"sqlite:///{tmp_path / 'clone.sqlite'}"


def _clone(tmp_path: Path, source: str, target: str, dialect: str, copy: bool) -> None:
    src: dict[str, Any] = {"url": source, "include": TABLES[dialect]}
    if dialect == "postgresql":
        src["schema"] = "public"
    cfg: dict[str, Any] = {"source": src, "target": {"url": target, "mode": "replace"}, "model": {"path": None},
                           "seed": 15, "tables": {t: {"mode": "copy"} for t in TABLES[dialect]}}
    path = tmp_path / "clone.yaml"
    path.write_text(yaml.safe_dump(cfg))
    assert cli.run_cli(["--quiet", "run", "--config", str(path)]) == 0


def _report(tmp_path: Path, real: str, synthetic: str, dialect: str) -> dict:
    out = tmp_path / "report"
    args = ["--quiet", "report", "--real", real, "--synthetic", synthetic, "--out", str(out)]
    if dialect == "postgresql":
        args += ["--schema", "public"]
    assert cli.run_cli(args) == 0
    assert (out / "report.html").read_text(encoding="utf-8").count("<img") > 0
    return json.loads((out / "report.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("dialect", list(TABLES))
def test_report_on_a_copy_of_every_odd_type(dialect, sources, request, tmp_path):
    """A copy of the type tables scores 1.0 on every generated column, binary and geometry ones included."""
    source = sources[dialect]()
    target = _target(dialect, request, tmp_path)
    _clone(tmp_path, source, target, dialect, copy=True)
    report = _report(tmp_path, source, target, dialect)
    table, column = BINARY[dialect]
    scores = {(s["table"], s["columns"][0]): s for s in report["scores"] if s["property"] == "generated_columns"}
    assert scores[(table, column)]["metric"] == "LengthNulls"
    assert scores[(table, column)]["score"] == pytest.approx(1.0)
    assert set(report["tables"]) >= set(TABLES[dialect])


def test_report_on_synthesized_blobs_and_geometry(sources, mariadb_database, tmp_path):
    """Synthesized (not copied) blobs, BIT, JSON and geometry of MariaDB are scored on their lengths."""
    source = sources["mariadb"]()
    target = mariadb_database()
    cfg = {"source": {"url": source, "include": ["t_misc", "t_numeric"]},
           "target": {"url": target, "mode": "replace"}, "model": {"path": None}, "seed": 15}
    path = tmp_path / "synth.yaml"
    path.write_text(yaml.safe_dump(cfg))
    assert cli.run_cli(["--quiet", "run", "--config", str(path)]) == 0
    report = _report(tmp_path, source, target, "mariadb")
    scores = {s["columns"][0]: s["score"] for s in report["scores"]
              if s["property"] == "generated_columns" and s["table"] == "t_misc"}
    assert {"tb", "bl", "bin16", "vb", "doc", "shape", "location"} <= set(scores)
    assert scores["bin16"] == pytest.approx(1.0)  # BINARY(16): 16 bytes every row, on both sides
