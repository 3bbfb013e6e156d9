"""Several schemas in one run (issue 15): ``source.schema`` as a list or ``'*'``, cross-schema foreign keys kept,
table settings by bare or ``schema.table`` name, one-line errors for an ambiguous name, and a warning for every
foreign key that leaves the cloned set.

Runs on the PostgreSQL torture database (schemas public, hr and sales; sales.orders refers to hr.store and
hr.staff, hr.store and sales.orders to public.region).
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml
from test_torture import PG_TABLES

from dbsynth import cli
from dbsynth.pipeline import plan
from dbsynth.reflect import reflect
from dbsynth.reflect.schemas import list_schemas

pytestmark = pytest.mark.db

ALL = sorted(f"{s}.{t}" for s, names in PG_TABLES.items() for t in names)


def _write(tmp_path: Path, source: dict[str, Any], target: str | None = None, **extra: Any) -> Path:
    data: dict[str, Any] = {"source": source, "model": {"path": None}, "seed": 15, **extra}
    if target is not None:
        data["target"] = {"url": target, "mode": "replace"}
    path = tmp_path / f"schemas-{uuid.uuid4().hex[:6]}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and "Traceback" not in err, err
    return err


def test_list_schemas_leaves_the_system_ones_out(pg_torture):
    names = list_schemas(pg_torture)
    assert names[:1] == ["public"] and {"hr", "sales"} <= set(names)
    assert not [n for n in names if n.startswith("pg_") or n == "information_schema"]


def test_a_list_of_schemas_plans_every_table_and_the_cross_schema_keys(pg_torture, tmp_path):
    p = plan(_write(tmp_path, {"url": pg_torture, "schema": ["public", "hr", "sales"]}))
    names = [t.name for t in p.tables]
    assert sorted(names) == ALL
    # parents first across schemas: the orders' store and staff are written before them
    assert names.index("hr.store") < names.index("sales.orders")
    assert names.index("hr.staff") < names.index("sales.orders")


def test_star_reads_every_non_system_schema(pg_torture, tmp_path):
    p = plan(_write(tmp_path, {"url": pg_torture, "schema": "*"}))
    assert sorted(t.name for t in p.tables) == ALL


def test_cross_schema_foreign_keys_are_in_the_metadata(pg_torture):
    md = reflect(pg_torture, schema=["public", "hr", "sales"])
    orders = md.tables["sales.orders"]
    refs = {(tuple(fk.columns), fk.ref_table) for fk in orders.foreign_keys}
    assert {(("store_id",), "hr.store"), (("staff_id",), "hr.staff")} <= refs
    assert ("sales.orders", "hr.store") in {(e.child, e.parent) for e in md.graph().edges}


def test_foreign_keys_into_public_are_kept(pg_torture):
    # PostgreSQL names no schema for a referred table on the search_path (public): it is still public
    md = reflect(pg_torture, schema=["public", "hr", "sales"])
    assert "public.region" in {fk.ref_table for fk in md.tables["hr.store"].foreign_keys}
    assert not md.tables["hr.store"].outside_foreign_keys


def test_table_settings_by_bare_and_qualified_names(pg_torture, tmp_path):
    cfg = _write(tmp_path, {"url": pg_torture, "schema": ["hr", "sales"]},
                 tables={"staff": {"mode": "copy"}, "sales.product": {"mode": "copy"}, "order_line": {"mode": "empty"},
                         "orders": {"columns": {"items": {"constant": 3}}}})
    modes = {t.name: t.mode for t in plan(cfg).tables}
    assert modes["hr.staff"] == "copy" and modes["sales.product"] == "copy" and modes["sales.order_line"] == "empty"
    assert modes["sales.orders"] == "synthesize" and modes["hr.store"] == "synthesize"


def test_an_unknown_table_name_is_one_line(pg_torture, tmp_path, capsys):
    cfg = _write(tmp_path, {"url": pg_torture, "schema": ["hr", "sales"]}, target="sqlite:///unused.sqlite",
                 tables={"stafff": {"mode": "copy"}})
    assert cli.run_cli(["run", "--config", str(cfg), "--dry-run"]) == 2
    assert "tables.stafff" in _one_line_error(capsys)


@pytest.fixture
def twin_schemas(pg_database) -> str:
    """A database whose schemas a and b both hold a table named orders."""
    url = pg_database()
    eng = sa.create_engine(url)
    try:
        with eng.begin() as conn:
            for sch in ("a", "b"):
                conn.execute(sa.text(f"CREATE SCHEMA {sch}"))
                conn.execute(sa.text(f"CREATE TABLE {sch}.orders (id integer PRIMARY KEY, qty integer)"))
                conn.execute(sa.text(f"INSERT INTO {sch}.orders SELECT g, g % 7 FROM generate_series(1, 20) g"))
            conn.execute(sa.text("CREATE TABLE a.customer (id integer PRIMARY KEY)"))
    finally:
        eng.dispose()
    return url


def test_a_bare_name_in_two_schemas_is_a_one_line_error(twin_schemas, tmp_path, capsys):
    cfg = _write(tmp_path, {"url": twin_schemas, "schema": ["a", "b"]}, target="sqlite:///unused.sqlite",
                 tables={"orders": {"mode": "copy"}})
    assert cli.run_cli(["run", "--config", str(cfg), "--dry-run"]) == 2
    err = _one_line_error(capsys)
    assert "a.orders" in err and "b.orders" in err and "schema.table" in err
    # the same in include/exclude, and a qualified name or a unique bare one is fine
    cfg = _write(tmp_path, {"url": twin_schemas, "schema": ["a", "b"], "include": ["orders"]},
                 target="sqlite:///unused.sqlite")
    assert cli.run_cli(["run", "--config", str(cfg), "--dry-run"]) == 2
    assert "a.orders" in _one_line_error(capsys)
    cfg = _write(tmp_path, {"url": twin_schemas, "schema": "*", "include": ["b.orders", "customer"]},
                 tables={"a.customer": {"mode": "copy"}, "b.orders": {"mode": "copy"}})
    assert {t.name: t.mode for t in plan(cfg).tables} == {"a.customer": "copy", "b.orders": "copy"}


def test_foreign_keys_leaving_the_cloned_set_are_warned_in_the_dry_run(pg_torture, tmp_path, capsys):
    cfg = _write(tmp_path, {"url": pg_torture, "schema": ["public", "sales"]}, target="sqlite:///unused.sqlite")
    assert cli.run_cli(["run", "--config", str(cfg), "--dry-run"]) == 0
    out = capsys.readouterr().out
    warned = [ln for ln in out.splitlines() if ln.startswith("warning: table 'sales.orders'")]
    assert any("'hr.store'" in ln for ln in warned) and any("'hr.staff'" in ln for ln in warned), out


def test_pg_schemas_flattened_into_sqlite(pg_torture, tmp_path, capsys):
    """hr and sales into SQLite (no schemas there: bare names), the cross-schema keys kept; the outside keys are
    in the run report, and dbsynth report finds the flattened tables and skips the excluded one."""
    target = tmp_path / "flat.sqlite"
    report_json = tmp_path / "run.json"
    copy = {t: {"mode": "copy"} for t in ("staff", "sales.product", "orders", "order_line")}
    cfg = _write(tmp_path, {"url": pg_torture, "schema": ["hr", "sales"], "exclude": ["staff_history"]},
                 target=f"sqlite:///{target}", tables=copy, report={"json": str(report_json)})
    assert cli.run_cli(["--quiet", "run", "--config", str(cfg)]) == 0
    con = sqlite3.connect(target)
    try:
        names = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert names == {"store", "staff", "product", "orders", "order_line"}
        assert con.execute("SELECT count(*) FROM orders").fetchone()[0] == 300
        assert con.execute("PRAGMA foreign_key_check").fetchall() == []
        fks = {(r[2], r[3]) for r in con.execute("PRAGMA foreign_key_list(orders)")}
        assert {("store", "store_id"), ("staff", "staff_id")} <= fks
    finally:
        con.close()
    warnings = json.loads(report_json.read_text())["warnings"]
    assert any(w.startswith("table 'hr.store', foreign key 'fk_store_region'") for w in warnings), warnings
    assert any(w.startswith("table 'sales.orders', foreign key 'fk_orders_region'") for w in warnings), warnings
    capsys.readouterr()
    assert cli.run_cli(["report", "--real", pg_torture, "--schema", "hr", "--schema", "sales",
                        "--synthetic", f"sqlite:///{target}", "--out", str(tmp_path / "q")]) == 0
    out = capsys.readouterr().out
    assert "not compared: hr.staff_history" in out
    assert json.loads((tmp_path / "q" / "report.json").read_text())


def test_star_copy_into_postgresql_keeps_the_schemas(pg_torture, pg_database, tmp_path):
    target = pg_database()
    copy = {t: {"mode": "copy"} for names in PG_TABLES.values() for t in names}
    assert cli.run_cli(["--quiet", "run", "--config", str(_write(tmp_path, {"url": pg_torture, "schema": "*"},
                                                                target=target, tables=copy))]) == 0
    eng = sa.create_engine(target)
    try:
        with eng.connect() as conn:
            tables = {tuple(r) for r in conn.execute(sa.text(
                "SELECT schemaname, tablename FROM pg_tables WHERE schemaname IN ('public', 'hr', 'sales')"))}
            fks = {tuple(r) for r in conn.execute(sa.text(
                "SELECT conrelid::regclass::text, confrelid::regclass::text FROM pg_constraint WHERE contype = 'f'"))}
    finally:
        eng.dispose()
    assert {(s, t) for s, names in PG_TABLES.items() for t in names} <= tables
    assert {("sales.orders", "hr.store"), ("sales.orders", "hr.staff"), ("hr.staff_history", "hr.staff")} <= fks


def test_inspect_with_star(pg_torture, capsys):
    assert cli.run_cli(["--quiet", "inspect", pg_torture, "--schema", "*"]) == 0
    out = capsys.readouterr().out
    assert "hr.store" in out and "sales.orders" in out and "public.t_time" in out


def test_an_empty_public_schema_names_the_schemas_that_hold_tables(pg_database, tmp_path, capsys):
    url = pg_database()
    eng = sa.create_engine(url)
    try:
        with eng.begin() as conn:
            conn.execute(sa.text("CREATE SCHEMA person; CREATE TABLE person.p (id integer PRIMARY KEY)"))
    finally:
        eng.dispose()
    cfg = _write(tmp_path, {"url": url}, target="sqlite:///unused.sqlite")
    assert cli.run_cli(["run", "--config", str(cfg), "--dry-run"]) == 2
    err = _one_line_error(capsys)
    assert "schemas person" in err and "source.schema" in err
    assert cli.run_cli(["inspect", url]) == 2
    assert "--schema" in _one_line_error(capsys)
    assert cli.run_cli(["--quiet", "inspect", url, "--schema", "*"]) == 0
    assert "p  (" in capsys.readouterr().out
