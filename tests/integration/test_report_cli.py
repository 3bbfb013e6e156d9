"""`dbsynth report` on the embedded Chinook against a synthetic SQLite made by HMASynthesizer."""

from __future__ import annotations

import json

import pytest

from dbsynth.cli import run_cli
from dbsynth.config import resolve_url
from dbsynth.read import read_tables
from dbsynth.reflect import reflect
from dbsynth.synthesizers import HMASynthesizer
from dbsynth.write import write


@pytest.fixture(scope="module")
def synthetic_chinook(tmp_path_factory) -> str:
    real = resolve_url("builtin:chinook")
    metadata = reflect(real)
    data = read_tables(real, metadata)
    synth = HMASynthesizer(metadata, seed=0, verbose=False).fit(data).sample()
    url = f"sqlite:///{tmp_path_factory.mktemp('synth') / 'synth.sqlite'}"
    write(synth, url, metadata)
    return url


def test_report_command_writes_files(synthetic_chinook, tmp_path, capsys):
    out = tmp_path / "report"
    code = run_cli(["report", "--real", "builtin:chinook", "--synthetic", synthetic_chinook, "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    data = json.loads((out / "report.json").read_text())
    assert 0.3 < data["overall"] < 1.0  # a model, not a copy
    assert data["properties"]["validity"] == pytest.approx(1.0)  # the writer enforced every constraint
    assert "Invoice" in data["tables"]
    assert 'id="summary"' in (out / "report.html").read_text()
    assert "Overall quality" in capsys.readouterr().out


def test_fail_under_exits_one(synthetic_chinook, tmp_path, capsys):
    argv = ["report", "--real", "builtin:chinook", "--synthetic", synthetic_chinook, "--out", str(tmp_path)]
    assert run_cli([*argv, "--fail-under", "0.999"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "under --fail-under" in err[0]


def test_fail_under_property_exits_one_naming_the_property(synthetic_chinook, tmp_path, capsys):
    argv = ["report", "--real", "builtin:chinook", "--synthetic", synthetic_chinook, "--out", str(tmp_path)]
    assert run_cli([*argv, "--fail-under-property", "validity=1.0", "--fail-under-property", "cardinality=0.1"]) == 0
    capsys.readouterr()
    assert run_cli([*argv, "--fail-under-property", "column_shapes=0.999"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "column_shapes" in err[0] and "under --fail-under-property 99.9%" in err[0]
    assert (tmp_path / "report.html").exists()  # the report is written before the gate fails


def test_star_with_other_schemas_is_a_one_line_error(tmp_path, capsys):
    code = run_cli(["report", "--real", "builtin:chinook", "--synthetic", "builtin:chinook", "--schema", "*",
                    "--schema", "main", "--out", str(tmp_path / "r")])
    assert code == 2
    assert "--schema '*' already means every schema" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_one_schema_is_read_by_its_name(tmp_path, capsys):
    """SQLite's database is the schema 'main': --schema main reads the same tables (a repeated name counts once)."""
    code = run_cli(["report", "--real", "builtin:chinook", "--synthetic", "builtin:chinook", "--schema", "main",
                    "--schema", "main", "--out", str(tmp_path / "r")])
    assert code == 0, capsys.readouterr().err
    assert "Invoice" in json.loads((tmp_path / "r" / "report.json").read_text())["tables"]
