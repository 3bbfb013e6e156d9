"""A schema named in the config or on the command line that the source does not have is an error, not skipped."""

from __future__ import annotations

import sqlite3

import pytest

from dbsynth import cli, reflect
from dbsynth.errors import ReflectionError


@pytest.fixture
def url(tmp_path) -> str:
    path = tmp_path / "s.sqlite"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    con.commit()
    con.close()
    return f"sqlite:///{path}"


def test_a_missing_schema_in_a_list_is_named(url):
    with pytest.raises(ReflectionError, match="no schema 'nosuch'.*main"):
        reflect(url, schema=["main", "nosuch"])


def test_inspect_exits_2_on_a_missing_schema(url, capsys):
    assert cli.run_cli(["inspect", url, "--schema", "nosuch"]) == 2
    err = capsys.readouterr().err
    assert "nosuch" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_an_existing_schema_reflects(url):
    assert "t" in reflect(url, schema=["main"]).tables
