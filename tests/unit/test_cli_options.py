"""Global options after the subcommand, and ``inspect`` with several ``--schema`` (issue 15)."""

from __future__ import annotations

import logging

import pytest

import dbsynth.cli as cli
from dbsynth import progress
from dbsynth.errors import ReflectionError
from dbsynth.metadata import Column, Metadata, Table
from dbsynth.reflect.core import _apply_filters


@pytest.fixture
def fake_reflect(monkeypatch):
    calls = []

    def reflect(url, **kwargs):
        calls.append(kwargs)
        md = Metadata(dialect="sqlite")
        md.add_table(Table("t", columns=[Column("id", "integer", "id", nullable=False)], primary_key=["id"]))
        return md

    monkeypatch.setattr(cli, "_reflect", reflect)
    return calls


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["run", "-c", "c.yaml", "--quiet"], ["--quiet", "run", "-c", "c.yaml"]),
        (["run", "--log-format", "json", "-c", "c.yaml"], ["--log-format", "json", "run", "-c", "c.yaml"]),
        (["-v", "run", "--log-format=json", "-q", "--show-values"],
         ["-v", "--log-format=json", "-q", "--show-values", "run"]),
        (["--log-format", "json", "fit", "-c", "x"], ["--log-format", "json", "fit", "-c", "x"]),
        (["inspect", "u", "--", "--quiet"], ["inspect", "u", "--", "--quiet"]),
        (["--help"], ["--help"]),
        ([], []),
    ],
)
def test_global_options_are_moved_before_the_subcommand(argv, expected):
    assert cli._hoist_global_options(argv) == expected


def test_quiet_after_the_subcommand_is_applied(fake_reflect, capsys):
    assert cli.run_cli(["inspect", "sqlite://", "--quiet"]) == 0
    assert progress.mode() == "quiet"
    assert logging.getLogger().level == logging.WARNING
    assert cli.run_cli(["inspect", "sqlite://", "--verbose", "--log-format", "json"]) == 0
    assert progress.mode() == "json"
    assert logging.getLogger().level == logging.DEBUG


def test_bad_log_format_after_the_subcommand_is_a_usage_error(fake_reflect, capsys):
    assert cli.run_cli(["inspect", "sqlite://", "--log-format", "xml"]) == 2
    assert "--log-format" in capsys.readouterr().err


def test_inspect_passes_every_schema_to_reflect(fake_reflect, capsys):
    assert cli.run_cli(["inspect", "sqlite://", "--schema", "hr", "--schema", "sales"]) == 0
    assert fake_reflect[-1]["schema"] == ["hr", "sales"]
    assert cli.run_cli(["inspect", "sqlite://", "--schema", "hr"]) == 0
    assert fake_reflect[-1]["schema"] == "hr"  # one schema keeps unqualified table names
    assert cli.run_cli(["inspect", "sqlite://"]) == 0
    assert fake_reflect[-1]["schema"] is None


def _tables() -> dict:
    return {("hr", "staff"): "hr.staff", ("hr", "store"): "hr.store", ("sales", "store"): "sales.store",
            ("sales", "orders"): "sales.orders"}


def test_bare_names_pick_the_one_table_of_that_name_across_schemas():
    tables = _tables()
    _apply_filters(tables, ["staff", "sales.store"], None)
    assert sorted(tables.values()) == ["hr.staff", "sales.store"]
    tables = _tables()
    _apply_filters(tables, None, ["orders"])
    assert "sales.orders" not in tables.values() and len(tables) == 3


def test_a_bare_name_in_several_schemas_is_refused():
    with pytest.raises(ReflectionError, match=r"'store' is in several schemas .*schema\.table"):
        _apply_filters(_tables(), ["store"], None)


def test_inspect_lists_foreign_keys_to_tables_not_read(monkeypatch, capsys):
    from dbsynth.metadata import ForeignKey

    def reflect(url, **kwargs):
        md = Metadata(dialect="sqlite")
        md.add_table(Table("orders", columns=[Column("id", "integer", "id", nullable=False),
                                              Column("store_id", "integer", "id")], primary_key=["id"],
                           outside_foreign_keys=[ForeignKey(["store_id"], "hr.store", ["store_id"])]))
        return md

    monkeypatch.setattr(cli, "_reflect", reflect)
    assert cli.run_cli(["inspect", "sqlite://"]) == 0
    assert "FK (store_id) -> hr.store(store_id)  not read: outside the tables and schemas asked for" in (
        capsys.readouterr().out
    )
