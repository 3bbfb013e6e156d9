"""Torture databases (issue 15): every type and schema shape per dialect, and what dbsynth does with them.

The databases are built by tests/data/torture/load.sh from the SQL files beside it (no downloaded dumps):
PostgreSQL in three schemas (public, hr, sales) with cross-schema FKs, MariaDB with a second database for a
cross-database FK, SQLite with its affinities. Each holds a NOT NULL FK cycle (store <-> staff), a
self-reference, composite text keys, marker dates, infinities, NaN, extreme integers and a 100 KB text.

The first tests check that each torture database is built as described. The clone tests are written as
issue 15's "Done when" asks; those that fail today are marked ``xfail(strict=True)`` with what fails, so the
suite stays green and a fix flips them (a strict xfail that passes fails until its mark is removed).
"""

from __future__ import annotations

import re
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import torture_values
import yaml

from dbsynth import cli

pytestmark = pytest.mark.db

PG_SCHEMAS = ["public", "hr", "sales"]
#: Tables of each torture database (PostgreSQL: schema-qualified; partitions are not tables of their own).
PG_TABLES = {
    "public": {"t_numeric", "t_time", "t_misc", "t_custom", "events", "region", "category", "item"},
    "hr": {"store", "staff", "staff_history"},
    "sales": {"product", "orders", "order_line"},
}
MARIADB_TABLES = {"t_numeric", "t_text", "t_time", "t_misc", "store", "staff", "staff_history", "product",
                  "category", "orders", "order_line"}
SQLITE_TABLES = {"t_affinity", "t_text", "store", "staff", "staff_history", "product", "orders", "order_line"}


# ---- helpers ---------------------------------------------------------------------------------------------
def _query(url: str, sql: str) -> list[tuple]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.text(sql))]
    finally:
        engine.dispose()


def _scalar(url: str, sql: str) -> Any:
    return _query(url, sql)[0][0]


def _dialect(url: str) -> str:
    name = sa.make_url(url).get_backend_name()
    return "mariadb" if name in ("mysql", "mariadb") else name


def _source_schemas(url: str) -> list[str | None]:
    return list(PG_SCHEMAS) if _dialect(url) == "postgresql" else [None]


def _target_schema(url: str, schema: str | None) -> str | None:
    """Where a source schema's tables are expected in a target: same name on PostgreSQL, else the database."""
    return schema if _dialect(url) == "postgresql" else None


def _config(tmp_path: Path, source: str, target: str, copy: bool = False, **source_extra: Any) -> Path:
    src: dict[str, Any] = {"url": source, **source_extra}
    if _dialect(source) == "postgresql" and "schema" not in src:
        src["schema"] = list(PG_SCHEMAS)  # issue 15: several schemas in one run
    data: dict[str, Any] = {"source": src, "target": {"url": target, "mode": "replace"}, "model": {"path": None},
                            "seed": 15}
    if copy:
        data["tables"] = {t: {"mode": "copy"} for t in _tables_of(source, src.get("include"), src.get("schema"))}
    path = tmp_path / f"torture-{uuid.uuid4().hex[:6]}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _tables_of(url: str, include: list[str] | None = None, schema: str | list[str] | None = None) -> list[str]:
    if _dialect(url) == "postgresql":
        schemas = [schema] if isinstance(schema, str) else PG_SCHEMAS
        names = sorted(set().union(*(PG_TABLES[s] for s in schemas)))
    elif _dialect(url) == "mariadb":
        names = sorted(MARIADB_TABLES)
    else:
        names = sorted(SQLITE_TABLES)
    return [n for n in names if include is None or n in include]


def _reflected(url: str, schema: str | None) -> dict[str, sa.Table]:
    engine = sa.create_engine(url)
    try:
        md = sa.MetaData()
        md.reflect(engine, schema=schema, views=False)
        return {t.name: t for t in md.tables.values() if t.schema == schema and not t.name.startswith("events_")}
    finally:
        engine.dispose()


def differences(source: str, target: str, exact: bool, tables: list[str] | None = None) -> dict[str, str]:
    """``{table.column: what differs}`` between the cloned tables of ``source`` (every schema; ``tables`` or all)
    and ``target``; empty when equal. Approximations a target cannot avoid are the caller's to allow."""
    found: dict[str, str] = {}
    for schema in _source_schemas(source):
        names = [n for n in _tables_of(source, None, schema) if tables is None or n in tables]
        found.update(torture_values.differences(source, target, exact, schema, names))
    return found


def dangling(url: str) -> dict[str, int]:
    """``{constraint: rows}`` of the target's declared FKs whose rows refer to no parent row."""
    out: dict[str, int] = {}
    for schema in _source_schemas(url) if _dialect(url) == "postgresql" else [None]:
        for table in _reflected(url, schema).values():
            for fk in table.foreign_key_constraints:
                parent = fk.referred_table.alias("p")  # aliased: a self-reference must not match its own row
                cond = sa.and_(*[e.parent == parent.c[e.column.name] for e in fk.elements])
                notnull = sa.and_(*[e.parent.isnot(None) for e in fk.elements])
                stmt = sa.select(sa.func.count()).select_from(table).where(
                    notnull, ~sa.exists(sa.select(1).select_from(parent).where(cond)))
                engine = sa.create_engine(url)
                try:
                    with engine.connect() as conn:
                        n = conn.execute(stmt).scalar()
                finally:
                    engine.dispose()
                if n:
                    out[f"{table.name}.{fk.name}"] = n
    return out


def _run(cfg: Path, *extra: str) -> int:
    return cli.run_cli(["--quiet", "run", "--config", str(cfg), *extra])


# ---- the torture databases are built as described ----------------------------------------------------------
def test_pg_torture_has_every_type_and_shape(pg_torture):
    types = {(t, c): ty for t, c, ty in _query(pg_torture, """
        SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod)
        FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname IN ('public', 'hr', 'sales') AND a.attnum > 0 AND NOT a.attisdropped
          AND c.relkind IN ('r', 'p')""")}
    expected = {
        ("t_numeric", "n30"): "numeric(30,10)", ("t_numeric", "n1000"): "numeric(1000,500)",
        ("t_numeric", "n_free"): "numeric", ("t_numeric", "amount"): "money", ("t_time", "iv_nn"): "interval",
        ("t_misc", "b8"): "bit(8)", ("t_misc", "vb"): "bit varying(16)", ("t_misc", "ip"): "inet",
        ("t_misc", "net"): "cidr", ("t_misc", "mac"): "macaddr", ("t_misc", "r4"): "int4range",
        ("t_misc", "rtz"): "tstzrange", ("t_misc", "rd"): "daterange", ("t_misc", "ai"): "integer[]",
        ("t_misc", "at"): "text[]", ("t_misc", "j"): "json", ("t_misc", "jb"): "jsonb", ("t_misc", "x"): "xml",
        ("t_misc", "raw"): "bytea", ("t_misc", "u"): "uuid", ("t_misc", "tsv"): "tsvector",
        ("t_custom", "feeling"): "mood", ("t_custom", "pos"): "positive_int", ("t_custom", "country"): "country_code",
        ("t_custom", "home"): "address", ("t_custom", "pt"): "point", ("t_custom", "ci"): "circle",
        ("t_custom", "pg"): "polygon", ("t_custom", "c3"): "character(3)",
        ("t_time", "ts"): "timestamp(6) without time zone",
        ("product", "variant"): "character(2)",
    }
    assert {k: types.get(k) for k in expected} == expected
    # schemas, tables and the partitioned table
    tables = set(_query(pg_torture, "SELECT schemaname, tablename FROM pg_tables "
                                    "WHERE schemaname IN ('public','hr','sales')"))
    partitions = {("public", "events_2023"), ("public", "events_2024")}
    assert {(s, t) for s, ts in PG_TABLES.items() for t in ts} | partitions == tables
    assert _scalar(pg_torture, "SELECT relkind FROM pg_class WHERE oid = 'public.events'::regclass") == "p"
    # named constraints, deferrable cycle, cross-schema FKs, generated column, identity, sequence, comments
    cons = dict(_query(pg_torture, "SELECT conname, contype FROM pg_constraint c JOIN pg_namespace n "
                                   "ON n.oid = c.connamespace WHERE nspname IN ('public','hr','sales')"))
    for name, kind in [("pk_orders", "p"), ("pk_product", "p"), ("uq_staff_email", "u"), ("fk_store_manager", "f"),
                       ("fk_staff_store", "f"), ("fk_staff_reports_to", "f"), ("fk_orders_store", "f"),
                       ("fk_store_region", "f"), ("fk_line_product", "f"), ("ck_orders_shipped", "c"),
                       ("ck_product_code", "c"), ("ck_product_status", "c"), ("ck_t_time_order", "c"),
                       ("ck_orders_discount", "c"), ("ck_t_numeric_qty", "c"), ("uq_t_custom_code", "u")]:
        assert cons.get(name) == kind, name
    assert _query(pg_torture, "SELECT condeferrable, condeferred FROM pg_constraint WHERE conname IN "
                              "('fk_store_manager', 'fk_staff_store')") == [(True, True), (True, True)]
    assert _scalar(pg_torture, "SELECT count(*) FROM pg_constraint c JOIN pg_class a ON a.oid = c.conrelid "
                               "JOIN pg_class b ON b.oid = c.confrelid WHERE c.contype = 'f' "
                               "AND a.relnamespace <> b.relnamespace") == 4
    assert _scalar(pg_torture, "SELECT attnotnull FROM pg_attribute WHERE attrelid = 'hr.store'::regclass "
                               "AND attname = 'manager_staff_id'") is True
    indexes = {r[0] for r in _query(pg_torture, "SELECT indexname FROM pg_indexes "
                                                "WHERE schemaname IN ('public','hr','sales')")}
    assert {"ix_t_custom_feeling", "ix_t_custom_c3_pos", "ix_staff_store", "ix_orders_ordered_at",
            "ix_line_product"} <= indexes
    assert _scalar(pg_torture, "SELECT attgenerated FROM pg_attribute WHERE attrelid = 't_numeric'::regclass "
                               "AND attname = 'total'") == "s"
    assert _scalar(pg_torture, "SELECT attidentity FROM pg_attribute WHERE attrelid = 'sales.orders'::regclass "
                               "AND attname = 'order_id'") == "a"
    assert _scalar(pg_torture, "SELECT column_default FROM information_schema.columns WHERE table_name = 't_misc' "
                               "AND column_name = 'u'") == "gen_random_uuid()"
    assert "ticket_no_seq" in _scalar(pg_torture, "SELECT column_default FROM information_schema.columns "
                                                  "WHERE table_name = 'events' AND column_name = 'event_id'")
    comment = _scalar(pg_torture, "SELECT obj_description('sales.product'::regclass)")
    assert comment == "codes like AB-12, variants like XL"
    assert _scalar(pg_torture, "SELECT count(*) FROM pg_type WHERE typname IN ('mood','positive_int','country_code',"
                               "'address')") == 4


def test_pg_torture_holds_the_edge_values(pg_torture):
    q = lambda sql: _scalar(pg_torture, sql)
    assert q("SELECT count(*) FROM t_time WHERE d = 'infinity'") == 20
    assert q("SELECT count(*) FROM t_time WHERE ts = '-infinity'") == 20
    assert q("SELECT count(*) FROM t_time WHERE d IN ('9999-12-31', '0001-01-01')") == 40
    assert q("SELECT count(*) FROM hr.staff_history WHERE to_date = '9999-01-01'") == 80  # a third
    assert q("SELECT count(*) FROM t_time WHERE extract(microseconds FROM ts)::bigint % 1000000 <> 0") > 100
    assert q("SELECT count(*) FROM t_numeric WHERE f8 = 'NaN' OR f8 IN ('Infinity', '-Infinity')") == 3
    bounds = q("SELECT min(i8)::text || ' ' || max(i8)::text FROM t_numeric")
    assert bounds == "-9223372036854775808 9223372036854775807"
    assert q("SELECT min(i2)::text || ' ' || max(i2)::text FROM t_numeric") == "-32768 32767"
    assert q("SELECT max(length(body)) FROM t_custom") == 102400
    assert q("SELECT count(*) FROM t_custom WHERE c3 = 'C'") == 1  # stored as 'C  '
    assert q("SELECT count(*) FROM sales.product WHERE product_code ~ '^[A-Z]{2}-[0-9]{2}$'") == 120
    # the cycle: every store's manager works at that store
    assert q("SELECT count(*) FROM hr.store s JOIN hr.staff m ON m.staff_id = s.manager_staff_id "
             "WHERE m.store_id = s.store_id") == 8
    assert q("SELECT count(*) FROM hr.staff WHERE reports_to IS NOT NULL") == 72
    assert q("SELECT count(*) FROM public.events_2024") > 0


def test_mariadb_torture_has_every_type_and_shape(mariadb_torture):
    db = sa.make_url(mariadb_torture).database
    columns = "SELECT table_name, column_name, column_type FROM information_schema.columns WHERE table_schema = "
    types = {(t, c): ty for t, c, ty in _query(mariadb_torture, f"{columns}'{db}'")}
    expected = {
        ("t_text", "features"): "set('Trailers','Commentaries','Deleted Scenes','Behind the Scenes')",
        ("t_text", "rating"): "enum('G','PG','PG-13','R','NC-17')", ("t_time", "y"): "year(4)",
        ("t_numeric", "b1"): "bit(1)", ("t_numeric", "b8"): "bit(8)", ("t_misc", "tb"): "tinyblob",
        ("t_misc", "bl"): "blob", ("t_misc", "lb"): "longblob", ("t_misc", "doc"): "longtext",
        ("t_misc", "shape"): "geometry", ("t_misc", "location"): "point",
        ("t_numeric", "u8"): "bigint(20) unsigned", ("t_numeric", "d65"): "decimal(65,30)",
        ("t_time", "t3"): "time(3)", ("t_time", "dt6"): "datetime(6)", ("orders", "category_id"): "smallint(6)",
        ("category", "category_id"): "int(11)",
    }
    assert {k: types.get(k) for k in expected} == expected
    assert {r[0] for r in _query(mariadb_torture, "SHOW FULL TABLES WHERE Table_type = 'BASE TABLE'")} == MARIADB_TABLES
    create = _query(mariadb_torture, "SHOW CREATE TABLE t_misc")[0][1]
    assert "SPATIAL KEY `sx_t_misc_location`" in create and "`location` point NOT NULL" in create
    assert "DEFAULT uuid()" in create
    fks = dict(_query(mariadb_torture, "SELECT constraint_name, unique_constraint_schema FROM "
                      f"information_schema.referential_constraints WHERE constraint_schema = '{db}'"))
    assert fks["fk_store_currency"] == f"{db}_ext" and fks["fk_store_manager"] == db
    checks = {r[0] for r in _query(mariadb_torture, "SELECT constraint_name FROM information_schema.check_constraints "
                                                   f"WHERE constraint_schema = '{db}'")}
    assert {"ck_orders_shipped", "ck_product_code", "ck_t_text_code", "ck_t_time_order", "ck_history_dates"} <= checks
    assert _scalar(mariadb_torture, "SELECT is_nullable FROM information_schema.columns WHERE table_schema = "
                                    f"'{db}' AND table_name = 'store' AND column_name = 'manager_staff_id'") == "NO"


def test_mariadb_torture_holds_the_edge_values(mariadb_torture):
    q = lambda sql: _scalar(mariadb_torture, sql)
    assert q("SELECT count(*) FROM t_time WHERE CAST(d AS CHAR) = '0000-00-00'") == 20
    assert q("SELECT count(*) FROM t_time WHERE d = '9999-12-31'") == 20
    assert q("SELECT count(*) FROM staff_history WHERE to_date = '9999-01-01'") == 80
    assert q("SELECT CAST(max(u8) AS CHAR) FROM t_numeric") == "18446744073709551615"
    assert q("SELECT CAST(min(i8) AS CHAR) FROM t_numeric") == "-9223372036854775808"
    assert q("SELECT count(*) FROM t_time WHERE MICROSECOND(dt6) <> 0") > 100
    assert q("SELECT count(*) FROM t_text WHERE FIND_IN_SET('Commentaries', features)") == 50
    assert q("SELECT max(length(lb)) FROM t_misc") == 70000
    assert q("SELECT count(DISTINCT ST_GeometryType(shape)) FROM t_misc") == 3
    assert q("SELECT count(*) FROM store s JOIN staff m ON m.staff_id = s.manager_staff_id "
             "WHERE m.store_id = s.store_id") == 8
    assert q("SELECT count(*) FROM orders o LEFT JOIN category c USING (category_id) WHERE c.category_id IS NULL") == 0


def test_sqlite_torture_has_every_affinity_and_shape(sqlite_torture):
    master = dict(_query(sqlite_torture, "SELECT name, sql FROM sqlite_master WHERE type = 'table' "
                                         "AND name NOT LIKE 'sqlite_%'"))
    assert set(master) == SQLITE_TABLES
    assert "WITHOUT ROWID" in master["t_text"] and "WITHOUT ROWID" in master["order_line"]
    assert "DEFERRABLE INITIALLY DEFERRED" in master["store"] and "DEFERRABLE INITIALLY DEFERRED" in master["staff"]
    assert re.search(r"\banything,", master["t_affinity"])  # no declared type
    kinds = dict(_query(sqlite_torture, "SELECT typeof(anything), count(*) FROM t_affinity GROUP BY 1"))
    assert kinds == {"integer": 50, "real": 50, "text": 50, "blob": 50}
    assert _query(sqlite_torture, "SELECT count(*) FROM pragma_foreign_key_check") == [(0,)]
    q = lambda sql: _scalar(sqlite_torture, sql)
    assert q("SELECT count(*) FROM t_affinity WHERE r IN (9e999, -9e999)") == 2  # +-inf
    assert q("SELECT min(i) || ' ' || max(i) FROM t_affinity") == "-9223372036854775808 9223372036854775807"
    assert q("SELECT count(*) FROM staff_history WHERE to_date = '9999-01-01'") == 80
    assert q("SELECT max(length(body)) FROM t_text") == 102400
    assert q("SELECT count(*) FROM store s JOIN staff m ON m.staff_id = s.manager_staff_id "
             "WHERE m.store_id = s.store_id") == 8


def test_value_comparison_catches_a_changed_value(pg_torture, pg_database, postgres_server):
    """The round-trip check of the copy tests finds a date shifted by a day and a float written as NULL."""
    copy = pg_database(template=sa.make_url(pg_torture).database)
    assert differences(pg_torture, copy, exact=True) == {}
    engine = sa.create_engine(copy)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE hr.staff_history SET to_date = to_date + 1 WHERE staff_id = 3 AND "
                                 "to_date < '9999-01-01' AND from_date = '2015-01-01'"))
            conn.execute(sa.text("UPDATE t_numeric SET f4 = NULL WHERE id = 7"))
    finally:
        engine.dispose()
    found = differences(pg_torture, copy, exact=True)
    assert set(found) == {"staff_history.to_date", "t_numeric.f4"}, found


# ---- cloning them with dbsynth (issue 15, "Done when") -----------------------------------------------------
DIALECTS = ["postgresql", "mariadb", "sqlite"]


def _xfail(reason: str):
    return pytest.mark.xfail(strict=True, reason=f"issue 15: {reason}")


#: Whole-database synthesize runs that still fail, with the first error met (none today).
_RUN_FAILS: dict[tuple[str, str], str] = {}


def _pairs(fails: dict[tuple[str, str], str]) -> list:
    return [pytest.param(s, t, id=f"{s}-to-{t}", marks=[_xfail(fails[s, t])] if (s, t) in fails else [])
            for s in DIALECTS for t in DIALECTS]


def _fk_signature(url: str) -> set[tuple]:
    """(table, columns, referred table, referred columns) of every FK inside the cloned set of tables."""
    found = set()
    for schema in _source_schemas(url) if _dialect(url) == "postgresql" else [None]:
        for table in _reflected(url, schema).values():
            for fk in table.foreign_key_constraints:
                if _dialect(url) == "mariadb" and fk.referred_table.schema not in (None, table.schema):
                    continue  # the cross-database FK leaves the cloned database
                found.add((table.name, tuple(e.parent.name for e in fk.elements), fk.referred_table.name,
                           tuple(e.column.name for e in fk.elements)))
    return found


@pytest.mark.parametrize("src, tgt", _pairs(_RUN_FAILS))
def test_run_clones_every_table_with_valid_keys(src, tgt, torture, empty_target, tmp_path):
    """A plain `dbsynth run` into each dialect: every table, rows in each, every FK kept and valid."""
    source, target = torture(src), empty_target(tgt)
    assert _run(_config(tmp_path, source, target)) == 0
    for schema in _source_schemas(source):
        src_tables = _reflected(source, schema)
        tgt_tables = _reflected(target, _target_schema(target, schema))
        assert set(src_tables) <= set(tgt_tables)
        engine = sa.create_engine(target)
        try:
            with engine.connect() as conn:
                empty = [n for n in src_tables
                         if not conn.execute(sa.select(sa.func.count()).select_from(tgt_tables[n])).scalar()]
        finally:
            engine.dispose()
        assert empty == []
    assert _fk_signature(source) <= _fk_signature(target)
    assert dangling(target) == {}


@pytest.mark.parametrize("src, tgt", _pairs({}))
def test_copy_mode_round_trips_every_value(src, tgt, torture, empty_target, tmp_path):
    """`mode: copy` for every table (every PostgreSQL schema in one run): the target's rows equal the source's,
    type by type within a dialect, by the closest type's text across dialects but for the approximations a
    target cannot avoid (``torture_values.APPROXIMATED``, each warned by the writer)."""
    source, target = torture(src), empty_target(tgt)
    assert _run(_config(tmp_path, source, target, copy=True)) == 0
    allowed = torture_values.APPROXIMATED.get((src, tgt), {})
    found = differences(source, target, exact=src == tgt)
    assert {k: v for k, v in found.items() if k not in allowed} == {}


def _pg_ddl(server, url: str) -> str:
    dump = subprocess.run(["pg_dump", "-s", "-x", "-O", "-n", "public", "-n", "hr", "-n", "sales",
                           "-d", sa.make_url(url).database], env=server.env(), capture_output=True, text=True,
                          check=True).stdout
    # \restrict / \unrestrict carry a random key per dump (pg_dump's guard against psql meta-commands)
    lines = [ln for ln in dump.splitlines()
             if ln and not ln.startswith(("--", "SET ", "SELECT pg_catalog", "\\restrict", "\\unrestrict"))]
    return "\n".join(lines)


def _mariadb_ddl(url: str) -> dict[str, str]:
    names = [r[0] for r in _query(url, "SHOW FULL TABLES WHERE Table_type = 'BASE TABLE'")]
    out = {}
    for n in names:
        ddl = re.sub(r" AUTO_INCREMENT=\d+", "", _query(url, f"SHOW CREATE TABLE `{n}`")[0][1])
        # an FK into another database leaves the cloned set: not created in the target (the run warns)
        fk = r"\n  CONSTRAINT `[^`]+` FOREIGN KEY \([^)]*\) REFERENCES `[^`]+`\.`[^`]+`[^,\n]*"
        out[n] = re.sub(r"," + fk + r"(?=\n\))", "", re.sub(fk + ",", "", ddl))  # a middle line, then a last one
    return out


def _sqlite_ddl(url: str) -> dict[str, str]:
    return dict(_query(url, "SELECT name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' AND sql IS NOT NULL"))


#: Same-dialect DDL comparisons that still fail (none today).
_DDL_FAILS: dict[str, str] = {}


@pytest.mark.parametrize("dialect", [pytest.param(d, marks=[_xfail(_DDL_FAILS[d])] if d in _DDL_FAILS else [])
                                     for d in DIALECTS])
def test_same_dialect_clone_has_the_source_ddl(dialect, torture, empty_target, tmp_path, request):
    """pg_dump -s / SHOW CREATE TABLE / sqlite_master of a same-dialect clone equal the source's."""
    source, target = torture(dialect), empty_target(dialect)
    assert _run(_config(tmp_path, source, target)) == 0
    if dialect == "postgresql":
        server = request.getfixturevalue("postgres_server")
        assert _pg_ddl(server, target) == _pg_ddl(server, source)
    elif dialect == "mariadb":
        assert _mariadb_ddl(target) == _mariadb_ddl(source)
    else:
        assert _sqlite_ddl(target) == _sqlite_ddl(source)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_not_null_cycle_clones(dialect, torture, empty_target, tmp_path):
    """store.manager_staff_id -> staff and staff.store_id -> store, both NOT NULL, clone on every dialect."""
    source, target = torture(dialect), empty_target(dialect)
    extra: dict[str, Any] = {"include": ["store", "staff"]}
    if dialect == "postgresql":
        extra["schema"] = "hr"
    assert _run(_config(tmp_path, source, target, **extra)) == 0
    where = "hr." if dialect == "postgresql" else ""
    assert _scalar(target, f"SELECT count(*) FROM {where}store") > 0
    assert dangling(target) == {}
    # the data says a store's manager works at that store: so does the clone
    assert _scalar(target, f"SELECT count(*) FROM {where}store s JOIN {where}staff m "
                           "ON m.staff_id = s.manager_staff_id WHERE m.store_id <> s.store_id") == 0


@pytest.mark.parametrize("dialect", DIALECTS)
def test_marker_dates_copy_exactly(dialect, torture, empty_target, tmp_path):
    """History rows 'current until 9999-01-01' (and zero, 0001, infinity dates) copy value by value."""
    source, target = torture(dialect), empty_target(dialect)
    extra: dict[str, Any] = {"include": ["staff_history", "t_time"] if dialect != "sqlite" else ["staff_history"]}
    if dialect == "postgresql":
        extra = {"include": ["t_time"], "schema": "public"}
    assert _run(_config(tmp_path, source, target, copy=True, **extra)) == 0
    assert not {k: v for k, v in differences(source, target, exact=True).items()
                if k.split(".")[0] in extra["include"]}


def test_smallint_fk_to_integer_key_into_mariadb(pg_torture, mariadb_database, tmp_path):
    """A SMALLINT FK to an INTEGER key: MariaDB refuses the pair (error 1005), so the FK column takes its key's
    type in a cross-dialect target (write/types.py align_foreign_keys)."""
    target = mariadb_database()
    cfg = _config(tmp_path, pg_torture, target, schema="public", include=["category", "item"])
    assert _run(cfg) == 0
    assert _scalar(target, "SELECT count(*) FROM item") == 100
    assert dangling(target) == {}


def test_smallint_fk_to_integer_key_into_postgresql(pg_torture, pg_database, tmp_path):
    """The same pair into PostgreSQL (the FK column keeps its SMALLINT there: PostgreSQL accepts the pair)."""
    target = pg_database()
    assert _run(_config(tmp_path, pg_torture, target, schema="public", include=["category", "item"])) == 0
    assert _scalar(target, "SELECT count(*) FROM item") == 100
    assert dangling(target) == {}


def test_inspect_reads_several_schemas(pg_torture, tmp_path):
    out = tmp_path / "meta.json"
    assert cli.run_cli(["--quiet", "inspect", pg_torture, "--schema", "hr", "--schema", "sales",
                        "--include", "product", "--include", "staff_history", "--json", str(out)]) == 0
    text = out.read_text()
    assert "product" in text and "staff_history" in text


def test_global_options_after_the_subcommand(sqlite_torture, empty_target, tmp_path):
    cfg = _config(tmp_path, sqlite_torture, empty_target("sqlite"), include=["product"])
    assert cli.run_cli(["run", "--config", str(cfg), "--dry-run", "--quiet"]) == 0
