"""The command line without a server: parsing, inspect's summary and diagram, error handling and exit codes."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

import dbsynth.cli as cli
from dbsynth.errors import ConnectError
from dbsynth.metadata import Column, ForeignKey, Metadata, Table


def _store_staff() -> Metadata:
    """A small schema with a two-table cycle (store <-> staff) and a self-reference."""
    md = Metadata(dialect="sqlite")
    md.add_table(
        Table(
            "store",
            columns=[Column("id", "integer", "id", nullable=False), Column("manager_id", "integer", "id")],
            primary_key=["id"],
            foreign_keys=[ForeignKey(["manager_id"], "staff", ["id"])],
            row_count=2,
        )
    )
    md.add_table(
        Table(
            "staff",
            columns=[
                Column("id", "integer", "id", nullable=False),
                Column("store_id", "integer", "id", nullable=False),
                Column("boss_id", "integer", "id"),
                Column("email", "string", "email"),
            ],
            primary_key=["id"],
            foreign_keys=[
                ForeignKey(["store_id"], "store", ["id"]),
                ForeignKey(["boss_id"], "staff", ["id"]),
            ],
            row_count=5,
        )
    )
    return md


@pytest.fixture
def fake_reflect(monkeypatch):
    calls = []

    def reflect(url, **kwargs):
        calls.append((url, kwargs))
        return _store_staff()

    monkeypatch.setattr(cli, "_reflect", reflect)
    return calls


def test_inspect_summarizes_tables_keys_and_deferred_edges(fake_reflect, capsys):
    assert cli.run_cli(["inspect", "sqlite:////tmp/x.sqlite", "--include", "store", "--include", "staff"]) == 0
    out = capsys.readouterr().out
    assert "2 tables, 7 rows (sqlite)" in out
    assert "staff  (5 rows)" in out
    assert re.search(r"email +string as email", out)
    assert "filled after insert" in out
    assert "self-reference" in out
    assert fake_reflect[0][1]["include"] == ["store", "staff"]


def test_inspect_without_url_uses_embedded_chinook(fake_reflect, capsys):
    assert cli.run_cli(["inspect"]) == 0
    url = fake_reflect[0][0]
    assert url.startswith("sqlite:///") and url.endswith("data/chinook.sqlite")


@pytest.mark.parametrize("name,marker", [("g.mmd", "erDiagram"), ("g.md", "```mermaid"), ("g.dot", "digraph")])
def test_inspect_writes_diagram_by_suffix(fake_reflect, tmp_path, name, marker):
    path = tmp_path / name
    assert cli.run_cli(["inspect", "--diagram", str(path)]) == 0
    assert path.read_text().startswith(marker)


def test_inspect_json_round_trips(fake_reflect, tmp_path):
    path = tmp_path / "md.json"
    assert cli.run_cli(["inspect", "--json", str(path)]) == 0
    assert Metadata.load(path).fingerprint() == _store_staff().fingerprint()


def test_unknown_diagram_suffix_is_bad_input_before_reflecting(fake_reflect, tmp_path, capsys):
    assert cli.run_cli(["inspect", "--diagram", str(tmp_path / "g.pdf")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and ".mmd" in err
    assert fake_reflect == []


def test_dbsynth_error_is_one_line_with_its_exit_code(monkeypatch, capsys):
    def reflect(url, **kwargs):
        raise ConnectError("cannot connect to postgresql://u:***@nowhere/db")

    monkeypatch.setattr(cli, "_reflect", reflect)
    assert cli.run_cli(["inspect", "postgresql://u:secret@nowhere/db"]) == 2
    err = capsys.readouterr().err
    assert err == "error: cannot connect to postgresql://u:***@nowhere/db\n"


def test_unexpected_error_is_one_line_pointing_at_verbose(monkeypatch, capsys):
    def reflect(url, **kwargs):
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(cli, "_reflect", reflect)
    assert cli.run_cli(["inspect"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--verbose" in err and "Traceback" not in err
    assert cli.run_cli(["--verbose", "inspect"]) == 1
    assert "Traceback" in capsys.readouterr().err


def test_usage_errors_exit_2(capsys):
    assert cli.run_cli(["no-such-command"]) == 2
    assert cli.run_cli(["--log-format", "xml", "inspect"]) == 2


def test_python_dash_m_runs_the_cli():
    proc = subprocess.run([sys.executable, "-m", "dbsynth", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0
    assert "inspect" in proc.stdout


def test_cli_starts_without_pandas_or_the_models():
    # `dbsynth --help`, `validate-config` and one-line errors answer at once: the heavy stages load when used
    code = "import sys, dbsynth.cli; print(sorted(m for m in ('pandas', 'scipy', 'matplotlib') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
