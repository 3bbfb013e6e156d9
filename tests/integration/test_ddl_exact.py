"""Issue 15: a same-dialect clone has the source's DDL; several PostgreSQL schemas land in their own schemas with
the FKs across them; flat targets refuse two tables of one bare name; CHECKs cross dialects transpiled.

The torture databases and their fixtures come from test_torture.py. The DDL tests write with no rows (the
DDL does not depend on them) and again by ``dbsynth run`` with ``mode: copy`` for every table (copied values go
through the writer as a run's do; synthesized rows may still break CHECKs until sampling honours them).
"""

from __future__ import annotations

import re
import subprocess
from typing import Any

import pytest
import sqlalchemy as sa
from test_torture import (
    PG_SCHEMAS,
    _config,
    _query,
    _run,
    _scalar,
    dangling,
)

import dbsynth
from dbsynth.errors import WriteError
from dbsynth.metadata.records import CheckConstraint, Column, ForeignKey, Metadata, Table

pytestmark = pytest.mark.db

DIALECTS = ["postgresql", "mariadb", "sqlite"]


def _pg_ddl(server, url: str) -> list[str]:
    dump = subprocess.run(["pg_dump", "-s", "-x", "-O", *[a for s in PG_SCHEMAS for a in ("-n", s)],
                           "-d", sa.make_url(url).database], env=server.env(), capture_output=True, text=True,
                          check=True).stdout
    # \restrict / \unrestrict carry a random key per dump (pg_dump 17.6+, 16.10+, 15.14+)
    return [ln for ln in dump.splitlines()
            if ln and not ln.startswith(("--", "SET ", "SELECT pg_catalog", "\\restrict", "\\unrestrict"))]


def _mariadb_ddl(url: str) -> dict[str, str]:
    names = [r[0] for r in _query(url, "SHOW FULL TABLES WHERE Table_type = 'BASE TABLE'")]
    out = {n: re.sub(r" AUTO_INCREMENT=\d+", "", _query(url, f"SHOW CREATE TABLE `{n}`")[0][1]) for n in names}
    # a foreign key into another database is never cloned (its rows are not drawn from that table)
    outside = r"\n  CONSTRAINT `[^`]+` FOREIGN KEY [^\n]*REFERENCES `[^`]+`\.`[^\n]*"
    return {n: re.sub(outside, "", s).replace(",\n)", "\n)") for n, s in out.items()}


def _sqlite_ddl(url: str) -> dict[str, str]:
    return dict(_query(url, "SELECT name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' AND sql IS NOT NULL"))


def _ddl(dialect: str, url: str, request) -> Any:
    if dialect == "postgresql":
        return _pg_ddl(request.getfixturevalue("postgres_server"), url)
    return _mariadb_ddl(url) if dialect == "mariadb" else _sqlite_ddl(url)


def _reflect(source: str, dialect: str):
    schema = list(PG_SCHEMAS) if dialect == "postgresql" else None
    return dbsynth.reflect(source, schema=schema, statistics=False)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_same_dialect_write_gives_the_source_ddl(dialect, torture, empty_target, request):
    """Types as declared, defaults, identity/sequences, constraint and index names, comments, domains, enums,
    partitions (PostgreSQL), CHECKs, SET/YEAR/BIT/geometry and the SPATIAL index (MariaDB), declared types,
    AUTOINCREMENT and constraint names (SQLite): create, then replace into the clone (types already there)."""
    source, target = torture(dialect), empty_target(dialect)
    md = _reflect(source, dialect)
    dbsynth.write({}, target, md)
    assert _ddl(dialect, target, request) == _ddl(dialect, source, request)
    dbsynth.write({}, target, md.copy(), mode="replace")
    assert _ddl(dialect, target, request) == _ddl(dialect, source, request)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_same_dialect_copy_run_gives_the_source_ddl(dialect, torture, empty_target, tmp_path, request):
    """``dbsynth run`` with every table copied: the rows go in and the DDL is still the source's."""
    source, target = torture(dialect), empty_target(dialect)
    assert _run(_config(tmp_path, source, target, copy=True)) == 0
    assert _ddl(dialect, target, request) == _ddl(dialect, source, request)
    assert dangling(target) == {}


def _pg_fks(url: str) -> set[tuple[str, str, str]]:
    return set(_query(url, "SELECT conrelid::regclass::text, conname, confrelid::regclass::text FROM pg_constraint "
                           "WHERE contype = 'f'"))


def test_postgres_schemas_and_cross_schema_foreign_keys_are_kept(pg_torture, empty_target, tmp_path):
    """hr.store -> public.region, sales.orders -> hr.store/hr.staff: each table in its schema, keys across kept."""
    target = empty_target("postgresql")
    assert _run(_config(tmp_path, pg_torture, target, copy=True)) == 0
    fks = _pg_fks(target)
    assert {("hr.store", "fk_store_region", "region"), ("sales.orders", "fk_orders_store", "hr.store"),
            ("sales.orders", "fk_orders_staff", "hr.staff"), ("sales.order_line", "fk_line_product", "sales.product")
            } <= fks
    assert fks == _pg_fks(pg_torture)
    count = "SELECT count(*) FROM sales.orders"
    assert _scalar(target, count) == _scalar(pg_torture, count)
    assert dangling(target) == {}


def test_a_failed_postgres_run_leaves_no_schema_behind(pg_torture, empty_target):
    """CREATE SCHEMA runs in the load transaction: a load that fails rolls the schemas back too."""
    target = empty_target("postgresql")
    md = _reflect(pg_torture, "postgresql")
    bad = {"sales.order_line": _query(pg_torture, "SELECT 1")}  # not a frame: the load fails after the DDL
    with pytest.raises(AttributeError):
        dbsynth.write(bad, target, md)
    assert _query(target, "SELECT nspname FROM pg_namespace WHERE nspname IN ('hr', 'sales')") == []


def _clashing() -> Metadata:
    md = Metadata(dialect="postgresql")
    for schema in ("hr", "sales"):
        md.add_table(Table(name=f"{schema}.store", schema=schema, primary_key=["id"],
                           columns=[Column(name="id", type="integer", sdtype="id", nullable=False)]))
    md.add_table(Table(name="sales.orders", schema="sales", primary_key=["id"],
                       columns=[Column(name="id", type="integer", sdtype="id", nullable=False),
                                Column(name="store_id", type="integer", sdtype="id")],
                       foreign_keys=[ForeignKey(["store_id"], "hr.store", ["id"], "fk_orders_store")]))
    return md


@pytest.mark.parametrize("dialect", ["mariadb", "sqlite"])
def test_one_bare_name_twice_is_refused_before_writing(dialect, empty_target):
    target = empty_target(dialect)
    import pandas as pd

    data = {"hr.store": pd.DataFrame({"id": [1]}), "sales.store": pd.DataFrame({"id": [1]}),
            "sales.orders": pd.DataFrame({"id": [1], "store_id": [1]})}
    with pytest.raises(WriteError) as err:
        dbsynth.write(data, target, _clashing())
    assert "hr.store and sales.store" in str(err.value) and "PostgreSQL" in str(err.value)
    engine = sa.create_engine(target)
    try:
        assert sa.inspect(engine).get_table_names() == []
    finally:
        engine.dispose()


def test_one_bare_name_twice_clones_into_postgres(empty_target):
    import pandas as pd

    target = empty_target("postgresql")
    data = {"hr.store": pd.DataFrame({"id": [1, 2]}), "sales.store": pd.DataFrame({"id": [7]}),
            "sales.orders": pd.DataFrame({"id": [1], "store_id": [2]})}
    dbsynth.write(data, target, _clashing())
    assert _scalar(target, "SELECT count(*) FROM hr.store") == 2 and _scalar(target, "SELECT id FROM sales.store") == 7
    assert ("sales.orders", "fk_orders_store", "hr.store") in _pg_fks(target)


def test_checks_cross_dialects_transpiled_and_enforced(pg_torture, mariadb_torture, empty_target):
    """PostgreSQL -> MariaDB and MariaDB -> PostgreSQL: the CHECKs are in the target and refuse a bad row."""
    maria = empty_target("mariadb")
    summary = dbsynth.write({}, maria, _reflect(pg_torture, "postgresql"))
    names = {r[0] for r in _query(maria, "SELECT CONSTRAINT_NAME FROM information_schema.CHECK_CONSTRAINTS "
                                         "WHERE CONSTRAINT_SCHEMA = DATABASE()")}
    assert {"ck_product_status", "ck_product_code", "ck_orders_shipped", "ck_t_numeric_qty", "ck_events_kind",
            "ck_t_custom_c3"} <= names
    assert not [w for w in summary.warnings if "CHECK" in w]
    engine = sa.create_engine(maria)
    try:
        with engine.connect() as conn, pytest.raises(sa.exc.DBAPIError, match="ck_product_status"):
            conn.exec_driver_sql("INSERT INTO product VALUES ('AB-12', 'XL', 't', 'bogus', 1)")
    finally:
        engine.dispose()

    pg = empty_target("postgresql")
    dbsynth.write({}, pg, _reflect(mariadb_torture, "mariadb"))
    names = {r[0] for r in _query(pg, "SELECT conname FROM pg_constraint WHERE contype = 'c'")}
    assert {"ck_t_text_code", "ck_t_text_c3", "ck_product_price", "ck_history_dates", "ck_staff_salary"} <= names
    engine = sa.create_engine(pg)
    try:
        with engine.connect() as conn, pytest.raises(sa.exc.DBAPIError, match="ck_product_code"):
            conn.exec_driver_sql("INSERT INTO product VALUES ('bad', 'XL', 't', 'active', 1)")
    finally:
        engine.dispose()


def _refused(url: str, sql: str, check: str) -> None:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn, pytest.raises(sa.exc.DBAPIError, match=check):
            conn.exec_driver_sql(sql)
    finally:
        engine.dispose()


def _accepted(url: str, sql: str) -> None:
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(sql)
    finally:
        engine.dispose()


def test_a_check_the_target_refuses_is_left_out_with_a_warning(sqlite_torture, empty_target):
    """SQLite's flag IN (0, 1) on what becomes a boolean, in PostgreSQL: dropped, named, run goes on; its GLOB
    is carried as an anchored regex, enforced as SQLite enforces it (case-sensitive, whole value)."""
    pg = empty_target("postgresql")
    summary = dbsynth.write({}, pg, _reflect(sqlite_torture, "sqlite"))
    said = " ".join(summary.warnings)
    assert "ck_affinity_flag" in said and "t_affinity" in said and "ck_t_text_code" not in said
    names = {r[0] for r in _query(pg, "SELECT conname FROM pg_constraint WHERE contype = 'c'")}
    assert {"ck_t_text_c3", "ck_t_text_code"} <= names and "ck_affinity_flag" not in names
    _accepted(pg, "INSERT INTO t_text (code, c3) VALUES ('AB-1234', 'C12')")
    for bad in ("ab-1234", "AB-12345", "XAB-1234", "AB-123"):
        _refused(pg, f"INSERT INTO t_text (code, c3) VALUES ('{bad}', 'C12')", "ck_t_text_code")


def test_a_glob_is_a_case_sensitive_regexp_in_mariadb(sqlite_torture, empty_target):
    """SQLite's GLOB in MariaDB: a REGEXP that, under the table's case-insensitive collation, still refuses the
    other case, as GLOB does."""
    maria = empty_target("mariadb")
    summary = dbsynth.write({}, maria, _reflect(sqlite_torture, "sqlite"))
    assert "ck_t_text_code" not in " ".join(summary.warnings)
    names = {r[0] for r in _query(maria, "SELECT CONSTRAINT_NAME FROM information_schema.CHECK_CONSTRAINTS "
                                         "WHERE CONSTRAINT_SCHEMA = DATABASE()")}
    assert "ck_t_text_code" in names
    collation = _query(maria, "SELECT COLLATION_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = "
                              "DATABASE() AND TABLE_NAME = 't_text' AND COLUMN_NAME = 'code'")[0][0]
    assert collation.endswith("_ci")  # the collation under which a plain REGEXP would ignore case
    _accepted(maria, "INSERT INTO t_text (code, c3) VALUES ('AB-1234', 'C12')")
    for bad in ("ab-1234", "Ab-1234", "AB-12345", "XAB-1234", "AB-123"):
        _refused(maria, f"INSERT INTO t_text (code, c3) VALUES ('{bad}', 'C12')", "ck_t_text_code")


def test_a_check_mariadb_cannot_carry_is_said(empty_target):
    """A CHECK calling a function MariaDB lacks, from SQLite: the tables are created (staged) without it and the
    write's warnings, which the run report lists, name it; the CHECKs it can carry are there."""
    md = Metadata(dialect="sqlite")
    md.add_table(Table(name="t", columns=[Column(name="id", type="integer"), Column(name="code")],
                       primary_key=["id"],
                       check_constraints=[CheckConstraint("my_own_function(code) > 0", "ck_t_own"),
                                          CheckConstraint("code GLOB 'A*'", "ck_t_glob"),
                                          CheckConstraint("id > 0", "ck_t_id")]))
    maria = empty_target("mariadb")
    summary = dbsynth.write({}, maria, md)
    said = [w for w in summary.warnings if "ck_t_own" in w]
    assert len(said) == 1 and "'t'" in said[0] and "left out" in said[0], summary.warnings
    assert not [w for w in summary.warnings if "ck_t_glob" in w or "ck_t_id" in w]
    names = {r[0] for r in _query(maria, "SELECT CONSTRAINT_NAME FROM information_schema.CHECK_CONSTRAINTS "
                                         "WHERE CONSTRAINT_SCHEMA = DATABASE()")}
    assert names == {"ck_t_glob", "ck_t_id"}


def test_one_explicit_schema_is_created_in_the_target(pg_torture, empty_target, tmp_path):
    """A PostgreSQL run with ``schema: hr`` (not the default schema) writes hr.store, not public.store."""
    target = empty_target("postgresql")
    assert _run(_config(tmp_path, pg_torture, target, copy=True, schema="hr", include=["store", "staff"])) == 0
    assert _scalar(target, "SELECT count(*) FROM hr.store") == 8
    assert _query(target, "SELECT 1 FROM pg_tables WHERE schemaname = 'public'") == []


def test_every_mode_acts_on_the_schema_qualified_tables(empty_target):
    """create, replace, truncate and append into hr.store / sales.store (one bare name), sequences included."""
    import pandas as pd

    target = empty_target("postgresql")
    md = _clashing()
    md.tables["hr.store"].columns[0].autoincrement = True

    def data():
        return {"hr.store": pd.DataFrame({"id": [1, 2]}), "sales.store": pd.DataFrame({"id": [7]}),
                "sales.orders": pd.DataFrame({"id": [1], "store_id": [2]})}

    for mode in ("create", "replace", "truncate"):
        assert dbsynth.write(data(), target, md, mode=mode).total_rows == 4
        assert _scalar(target, "SELECT count(*) FROM hr.store") == 2
    dbsynth.write({"hr.store": pd.DataFrame({"id": [3]})}, target, md, mode="append")
    assert _scalar(target, "SELECT count(*) FROM hr.store") == 3
    assert _scalar(target, "SELECT count(*) FROM sales.store") == 1
    assert _scalar(target, "SELECT nextval(pg_get_serial_sequence('hr.store', 'id'))") == 4
    assert _query(target, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'") == []
