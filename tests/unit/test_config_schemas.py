"""source.schema as a name, a list or '*', and table names of the config across several schemas (issue 15)."""

from __future__ import annotations

import pytest

from dbsynth import cli
from dbsynth.config import parse_config, resolve_table_names, table_key
from dbsynth.errors import ConfigError
from dbsynth.metadata import sdtypes as st
from dbsynth.metadata.records import Column, Metadata, Table
from dbsynth.reflect.schemas import resolve_schemas


def _cfg(schema=None, tables=None):
    src = {"url": "sqlite:///x.sqlite"}
    if schema is not None:
        src["schema"] = schema
    return parse_config({"source": src, "tables": tables or {}})


@pytest.mark.parametrize("value, expected", [
    ("hr", "hr"),
    (["public", "hr"], ["public", "hr"]),
    (["hr", "hr", "sales"], ["hr", "sales"]),  # named twice: read once
    ("*", "*"),
    (["*"], "*"),
])
def test_schema_accepts_a_name_a_list_and_star(value, expected):
    assert _cfg(value).source.db_schema == expected


@pytest.mark.parametrize("value, words", [
    ([], "empty list"),
    (["*", "hr"], "'*' already means every schema"),
    ("", "empty schema name"),
    (["hr", " "], "empty schema name"),
    (3, "source.schema"),
])
def test_bad_schema_values_are_one_line_errors(value, words):
    with pytest.raises(ConfigError) as err:
        _cfg(value)
    assert words in str(err.value) and "\n" not in str(err.value)


def test_star_is_the_connection_database_off_postgresql():
    # no connection needed: on SQLite and MariaDB '*' is the database the URL names
    assert resolve_schemas("sqlite:///x.sqlite", "*") is None
    assert resolve_schemas("mysql://u@h/db", "*") is None
    assert resolve_schemas("mysql://u@h/db", ["a"]) == "a"
    assert resolve_schemas("mysql://u@h/db", ["a", "b"]) == ["a", "b"]
    assert resolve_schemas("mysql://u@h/db", None) is None


def _table(schema, name):
    t = Table(name=f"{schema}.{name}" if schema else name, schema=schema,
              columns=[Column("id", st.INTEGER, nullable=False)], primary_key=["id"])
    t.column("id").sdtype = st.ID
    return t


def _metadata(*names):
    md = Metadata(dialect="postgresql")
    for n in names:
        sch, _, bare = n.rpartition(".")
        md.add_table(_table(sch or None, bare))
    return md


def test_bare_and_qualified_table_names_resolve():
    md = _metadata("hr.staff", "sales.orders", "hr.orders")
    assert table_key("staff", md) == "hr.staff"
    assert table_key("hr.staff", md) == "hr.staff"
    assert table_key("nothing", md) is None
    cfg = _cfg(tables={"staff": {"mode": "copy"}, "sales.orders": {"mode": "empty"}})
    resolve_table_names(cfg, md)
    assert list(cfg.tables) == ["hr.staff", "sales.orders"]
    resolve_table_names(cfg, md)  # once resolved, the names stay
    assert list(cfg.tables) == ["hr.staff", "sales.orders"]


def test_qualified_name_in_a_one_schema_run():
    md = Metadata(dialect="postgresql")
    t = _table(None, "staff")
    t.schema = "hr"  # schema: hr gives bare keys, the table still knows its schema
    md.add_table(t)
    assert table_key("hr.staff", md) == "staff"


def test_a_bare_name_in_several_schemas_is_one_line_naming_both():
    md = _metadata("hr.orders", "sales.orders")
    cfg = _cfg(tables={"orders": {"mode": "copy"}})
    with pytest.raises(ConfigError) as err:
        resolve_table_names(cfg, md)
    msg = str(err.value)
    assert "tables.orders" in msg and "hr.orders" in msg and "sales.orders" in msg and "schema.table" in msg
    assert "\n" not in msg and err.value.exit_code == 2


def test_one_table_named_twice_is_refused():
    md = _metadata("hr.staff", "sales.orders")
    cfg = _cfg(tables={"staff": {"mode": "copy"}, "hr.staff": {"mode": "empty"}})
    with pytest.raises(ConfigError, match="names the same table"):
        resolve_table_names(cfg, md)


def test_inspect_refuses_star_with_other_schemas(capsys):
    assert cli.run_cli(["inspect", "builtin:chinook", "--schema", "*", "--schema", "hr"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--schema '*'" in err


def test_inspect_star_on_sqlite_reads_the_database(capsys):
    assert cli.run_cli(["inspect", "builtin:chinook", "--schema", "*"]) == 0
    assert "Invoice" in capsys.readouterr().out
