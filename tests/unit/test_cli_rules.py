"""`dbsynth run` with rules in the YAML (issue 17): constraints with SDV's names and a custom class kept in every
written row, rules switched off, and every bad constraint one line with exit 2 before anything is written."""

from __future__ import annotations

import json
import sqlite3
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

import dbsynth.cli as cli


def _config(tmp_path: Path, tables: dict, **top) -> Path:
    data = {
        "source": {"url": "builtin:chinook"},
        "target": {"url": "sqlite:///out.sqlite", "mode": "replace"},
        "model": {"path": None},
        "seed": 1,
        "tables": tables,
        "report": {"quality": "quality"},
        **top,
    }
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _rows(db: Path, sql: str):
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


@pytest.fixture
def even_module(tmp_path, monkeypatch):
    """A user's module holding a custom constraint class, importable by path."""
    (tmp_path / "shop_rules.py").write_text(textwrap.dedent('''
        import numpy as np

        class EvenMilliseconds:
            """Track lengths in whole even milliseconds (a made-up rule the data does not keep)."""

            def __init__(self, column_names):
                self.column = column_names[0]

            def is_valid(self, data):
                return (data[self.column] % 2 == 0).to_numpy()

            def reverse_transform(self, data):
                out = data.copy()
                out[self.column] = (out[self.column] // 2) * 2
                return out
    '''))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "shop_rules:EvenMilliseconds"
    sys.modules.pop("shop_rules", None)


def test_constraints_from_yaml_hold_in_every_written_row(tmp_path, monkeypatch, capsys, even_module):
    monkeypatch.chdir(tmp_path)
    tables = {"Track": {"constraints": [
        {"ScalarRange": {"column_name": "Milliseconds", "low_value": 100_000, "high_value": 400_000}},
        {"constraint_class": "Inequality",
         "constraint_parameters": {"low_column_name": "Milliseconds", "high_column_name": "Bytes"}},
        {even_module: {"column_names": ["Milliseconds"]}},
    ]}}
    cfg = _config(tmp_path, tables, report={"quality": "quality", "fail_under_properties": {"rules": 1.0}})
    assert cli.run_cli(["run", "--config", str(cfg)]) == 0, capsys.readouterr().err
    db = tmp_path / "out.sqlite"
    # the real Chinook has tracks under 100 s and over 400 s, and odd lengths: the rules are the config's doing
    assert _rows(db, "SELECT count(*) FROM Track")[0][0] > 3000
    assert _rows(db, "SELECT count(*) FROM Track WHERE Milliseconds <= 100000 OR Milliseconds >= 400000") == [(0,)]
    assert _rows(db, "SELECT count(*) FROM Track WHERE Milliseconds % 2 <> 0") == [(0,)]
    assert _rows(db, "SELECT count(*) FROM Track WHERE Bytes < Milliseconds") == [(0,)]
    report = json.loads((tmp_path / "quality" / "report.json").read_text())
    users = {r["name"]: r for r in report["rules"] if r["origin"] == "user"}
    assert len(users) == 3 and all(r["kept"] == r["total"] > 0 for r in users.values()), users
    assert report["properties"]["rules"] == 1.0


def test_rules_switched_off_in_yaml_are_neither_kept_nor_scored(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    cfg = _config(tmp_path, {}, rules={"off": ["aggregate", "table:Invoice"]})
    assert cli.run_cli(["run", "--config", str(cfg)]) == 0, capsys.readouterr().err
    names = [r["name"] for r in json.loads((tmp_path / "quality" / "report.json").read_text())["rules"]]
    assert names and not [n for n in names if n.startswith("aggregate:") or n.split(":")[1] == "Invoice"]
    # discovery on: the rules of other tables are there
    assert "copied:InvoiceLine:UnitPrice" in names


@pytest.mark.parametrize("constraint, words", [
    ({"Bogus": {"column_name": "Milliseconds"}}, ["Bogus", "Track"]),
    ({"Positive": {"column": "Milliseconds"}}, ["Positive", "column"]),
    ({"Positive": {"column_name": "Nope"}}, ["Positive", "Nope"]),
    ({"ScalarRange": {"column_name": "Milliseconds", "low_value": 5, "high_value": 1}}, ["ScalarRange"]),
    ({"FixedIncrements": {"column_name": "Milliseconds", "increment_value": 0}}, ["FixedIncrements"]),
    ({"no_such_module:Rule": {"column_names": ["Milliseconds"]}}, ["no_such_module"]),
])
def test_a_bad_constraint_is_one_line_exit_2_and_writes_nothing(tmp_path, monkeypatch, capsys, constraint, words):
    monkeypatch.chdir(tmp_path)
    cfg = _config(tmp_path, {"Track": {"constraints": [constraint]}})
    assert cli.run_cli(["run", "--config", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    assert all(w in err for w in words), err
    assert not (tmp_path / "out.sqlite").exists()


def test_contradictory_constraints_are_one_line_exit_2(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    cfg = _config(tmp_path, {"Track": {"constraints": [
        {"Inequality": {"low_column_name": "Milliseconds", "high_column_name": "Bytes", "strict_boundaries": True}},
        {"Inequality": {"low_column_name": "Bytes", "high_column_name": "Milliseconds", "strict_boundaries": True}},
    ]}})
    assert cli.run_cli(["run", "--config", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Milliseconds" in err and "Bytes" in err, err
    assert not (tmp_path / "out.sqlite").exists()


def test_a_rule_on_a_column_the_config_overrides_is_not_kept_and_not_scored(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    # the billing country is the customer's in every real row (a copied rule); the config writes a constant there
    cfg = _config(tmp_path, {"Invoice": {"columns": {"BillingCountry": {"constant": "X"}}}},
                  report={"quality": "quality", "fail_under_properties": {"rules": 1.0}})
    assert cli.run_cli(["run", "--config", str(cfg)]) == 0, capsys.readouterr().err
    assert _rows(tmp_path / "out.sqlite", "SELECT DISTINCT BillingCountry FROM Invoice") == [("X",)]
    names = [r["name"] for r in json.loads((tmp_path / "quality" / "report.json").read_text())["rules"]]
    assert "copied:Invoice:BillingCountry" not in names and "copied:Invoice:BillingCity" in names
