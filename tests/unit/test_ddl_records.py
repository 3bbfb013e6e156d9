"""Issue 15, target side of the schema: DDL records, CHECK transpiling, where tables go (no server needed)."""

from __future__ import annotations

import pytest

from dbsynth.errors import MetadataError, WriteError
from dbsynth.metadata.records import (
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Metadata,
    NativeDDL,
    NativeObject,
    Table,
)
from dbsynth.reflect.ddl import split_mysql_create
from dbsynth.write.ddl import (
    build_schema,
    native_usable,
    target_schema,
    transpile_check,
)


# ---- CHECK transpiling -----------------------------------------------------------------------------------
@pytest.mark.parametrize("text, source, target, expected", [
    ("((kind = ANY (ARRAY['open'::text, 'close'::text])))", "postgresql", "mysql", "((`kind` IN ('open', 'close')))"),
    ("((status <> ALL (ARRAY['x'::text])))", "postgresql", "sqlite", "((NOT \"status\" IN ('x')))"),
    ("(((list_price >= (0)::numeric) AND (qty <= 10)))", "postgresql", "mysql",
     "(((`list_price` >= (0)) AND (`qty` <= 10)))"),
    ("((code ~ '^[A-Z]{2}$'::text))", "postgresql", "mysql", "(((`code` REGEXP '^[A-Z]{2}$')))"),
    ("`code` regexp '^[A-Z]{2}$'", "mysql", "postgresql", "\"code\" ~ '^[A-Z]{2}$'"),
    ("`qty` between 1 and 1000", "mysql", "postgresql", "\"qty\" BETWEEN 1 AND 1000"),
    ("length(v) <= 10", "sqlite", "mysql", "CHAR_LENGTH(`v`) <= 10"),
    ("code GLOB '[A-Z]*'", "sqlite", "postgresql", "\"code\" ~ '^[A-Z].*$'"),  # GLOB as an anchored regex
    ("`code` regexp '^A$'", "mysql", "sqlite", "\"code\" GLOB 'A'"),  # SQLite has no REGEXP: the GLOB of it
])
def test_checks_are_transpiled(text, source, target, expected):
    assert transpile_check(text, source, target) == expected


@pytest.mark.parametrize("text, source, target", [
    ("code GLOB upper(code)", "sqlite", "postgresql"),  # no GLOB outside SQLite, and not a literal pattern
    ("`code` regexp '^A'", "mysql", "sqlite"),  # SQLite has no REGEXP; an unanchored regex has no GLOB
    ("my_own_function(x) > 0", "postgresql", "mysql"),  # unknown function
    ("this is not sql ((", "postgresql", "mysql"),
])
def test_untranspilable_checks_give_none(text, source, target):
    assert transpile_check(text, source, target) is None


def test_cross_dialect_build_collects_a_warning_per_dropped_check():
    md = Metadata(dialect="sqlite")
    md.add_table(Table(name="t", columns=[Column(name="id", type="integer"), Column(name="code")],
                       primary_key=["id"], check_constraints=[CheckConstraint("my_own_function(code) > 0", "ck_code"),
                                                              CheckConstraint("id > 0", "ck_id")]))
    warnings: list[str] = []
    _, tables = build_schema(md, "postgresql", set(), warnings=warnings)
    assert len(warnings) == 1 and "ck_code" in warnings[0] and "'t'" in warnings[0]
    assert tables["t"].info["dbsynth_checks"] == [("ck_id", '"id" > 0')]


# ---- where tables go ---------------------------------------------------------------------------------------
def _two_schemas(clash: bool) -> Metadata:
    md = Metadata(dialect="postgresql")
    md.add_table(Table(name="hr.store", schema="hr", columns=[Column(name="id", type="integer")], primary_key=["id"]))
    other = "store" if clash else "orders"
    md.add_table(Table(name=f"sales.{other}", schema="sales",
                       columns=[Column(name="id", type="integer"), Column(name="store_id", type="integer")],
                       primary_key=["id"], foreign_keys=[ForeignKey(["store_id"], "hr.store", ["id"], "fk_x")]))
    return md


@pytest.mark.parametrize("dialect", ["mysql", "sqlite"])
def test_two_tables_with_one_bare_name_are_refused_without_schemas(dialect):
    with pytest.raises(WriteError) as err:
        build_schema(_two_schemas(clash=True), dialect, set())
    msg = str(err.value)
    assert "hr.store and sales.store" in msg and "PostgreSQL target" in msg and "\n" not in msg


def test_postgresql_keeps_each_table_in_its_schema():
    _, tables = build_schema(_two_schemas(clash=True), "postgresql", set())
    assert {(t.schema, t.name) for t in tables.values()} == {("hr", "store"), ("sales", "store")}
    fk = next(iter(tables["sales.store"].foreign_key_constraints))
    assert fk.referred_table is tables["hr.store"]


def test_flat_targets_use_bare_names():
    _, tables = build_schema(_two_schemas(clash=False), "mysql", set())
    assert {(t.schema, t.name) for t in tables.values()} == {(None, "store"), (None, "orders")}


def test_target_schema():
    md = Metadata(dialect="postgresql")
    hr = md.add_table(Table(name="store", schema="hr"))
    assert target_schema(md, hr, "postgresql") == "hr"  # schema: hr set explicitly -> hr.store in the target
    assert target_schema(md, hr, "sqlite") is None
    assert target_schema(md, md.add_table(Table(name="x")), "postgresql") is None  # the default schema
    maria = Metadata(dialect="mysql")
    db = maria.add_table(Table(name="store", schema="shop"))
    assert target_schema(maria, db, "postgresql") is None  # a MariaDB database is not a PostgreSQL schema


# ---- the source's own DDL ----------------------------------------------------------------------------------
def _native_table(**kw) -> Table:
    t = Table(name="t", columns=[Column(name="id", type="integer"), Column(name="v")], primary_key=["id"], **kw)
    t.native_ddl = NativeDDL(dialect="sqlite", statements=["CREATE TABLE t (id INTEGER PRIMARY KEY, v CHARACTER(3))"],
                             columns=["id", "v"], table="t")
    return t


def test_native_ddl_is_used_only_while_it_still_describes_the_table():
    md = Metadata(dialect="sqlite")
    t = md.add_table(_native_table())
    _, tables = build_schema(md, "sqlite", set())
    assert native_usable(md, t, tables["t"], "sqlite", None)
    assert not native_usable(md, t, tables["t"], "postgresql", None)
    t.columns.pop()  # a column left out since: the statement would create it
    assert not native_usable(md, t, tables["t"], "sqlite", None)
    t2 = md.add_table(_native_table(outside_foreign_keys=[ForeignKey(["v"], "gone", ["id"], "fk")]))
    assert not native_usable(md, t2, tables["t"], "sqlite", None)  # its FK clause names a table not cloned
    t3 = _native_table()
    t3.name = "renamed"
    md.tables = {"renamed": t3}
    _, tables = build_schema(md, "sqlite", set())
    assert not native_usable(md, t3, tables["renamed"], "sqlite", None)


def test_mysql_create_text_loses_its_foreign_keys_and_counter():
    sql = ("CREATE TABLE `store` (\n  `id` tinyint(3) unsigned NOT NULL AUTO_INCREMENT,\n  `m` int(11) NOT NULL,\n"
           "  PRIMARY KEY (`id`),\n  KEY `fk_m` (`m`),\n"
           "  CONSTRAINT `fk_m` FOREIGN KEY (`m`) REFERENCES `staff` (`id`) ON DELETE CASCADE,\n"
           "  CONSTRAINT `ck` CHECK (`m` > 0)\n) ENGINE=InnoDB AUTO_INCREMENT=9 DEFAULT CHARSET=utf8mb4")
    body, fks = split_mysql_create(sql)
    assert fks == {"fk_m": "FOREIGN KEY (`m`) REFERENCES `staff` (`id`) ON DELETE CASCADE"}
    assert "FOREIGN KEY" not in body and "AUTO_INCREMENT=9" not in body and "KEY `fk_m` (`m`)," in body
    assert "CHECK (`m` > 0)\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4" in body
    body, _ = split_mysql_create(sql.replace(",\n  CONSTRAINT `ck` CHECK (`m` > 0)", ""))
    assert "KEY `fk_m` (`m`)\n)" in body  # no comma left before the closing parenthesis


def test_ddl_records_round_trip_and_old_files_still_load():
    md = Metadata(dialect="postgresql")
    t = md.add_table(_native_table(primary_key_name="pk_t",
                                   indexes=[Index(name="ix_v", columns=["v", "lower(v)"], kind="gin", where="v > 'a'",
                                                  definition="CREATE INDEX ix_v ON public.t USING gin (v)")]))
    t.foreign_keys.append(ForeignKey(["v"], "t", ["id"], "fk", definition="FOREIGN KEY (v) REFERENCES public.t(id)"))
    md.native_objects.append(NativeObject(kind="domain", name="public.d", statements=["CREATE DOMAIN public.d AS int"]))
    data = md.to_dict()
    assert Metadata.from_dict(data).to_dict() == data
    old = {"version": 1, "dialect": "sqlite", "tables": {"t": {"columns": [{"name": "id"}]}}}
    loaded = Metadata.from_dict(old)
    assert loaded.tables["t"].native_ddl is None and loaded.tables["t"].indexes == [] and loaded.native_objects == []
    bad = md.to_dict()
    bad["tables"]["t"]["native_ddl"]["sql"] = "x"
    with pytest.raises(MetadataError, match="native_ddl"):
        Metadata.from_dict(bad)


def test_same_dialect_tables_built_from_records_keep_the_default_text():
    from sqlalchemy.dialects import postgresql
    from sqlalchemy.schema import CreateTable

    md = Metadata(dialect="postgresql")
    md.add_table(Table(name="t", primary_key=["id"], columns=[
        Column(name="id", type="integer", autoincrement=True, default="nextval('t_id_seq'::regclass)"),
        Column(name="at", type="timestamp", default="(now() + '1 day'::interval)"),
        Column(name="n", type="integer", default="nextval('other_seq'::regclass)")]))
    _, tables = build_schema(md, "postgresql", set())
    ddl = str(CreateTable(tables["t"]).compile(dialect=postgresql.dialect()))
    assert "DEFAULT (now() + '1 day'::interval)" in ddl and "nextval" not in ddl


def test_validate_names_bad_ddl_records():
    md = Metadata(dialect="postgresql")
    t = md.add_table(_native_table(indexes=[Index(name="ix"), Index(name="ix")]))
    t.native_ddl.dialect = "oracle"
    md.native_objects.append(NativeObject(kind="view", name="public.v"))
    with pytest.raises(MetadataError) as err:
        md.validate()
    text = str(err.value) + " ".join(getattr(err.value, "problems", []) or [])
    assert "['ix'] used twice" in text and "'oracle'" in text and "unknown kind 'view'" in text


def test_a_check_sqlite_cannot_run_is_left_out(tmp_path, caplog):
    import sqlalchemy as sa

    from dbsynth.write.ddl import create_tables

    md = Metadata(dialect="postgresql")
    md.add_table(Table(name="t", primary_key=["id"], columns=[Column(name="id", type="integer"), Column(name="d")],
                       check_constraints=[CheckConstraint("(date_part('year', d) > 2000)", "ck_year"),
                                          CheckConstraint("(id > 0)", "ck_id")]))
    _, tables = build_schema(md, "sqlite", set(), warnings=[])
    engine = sa.create_engine(f"sqlite:///{tmp_path / 't.sqlite'}")
    with engine.begin() as conn:
        create_tables(conn, md, ["t"], tables, "sqlite")
        conn.exec_driver_sql("INSERT INTO t VALUES (1, '2020-01-01')")  # would fail: no such function
        with pytest.raises(sa.exc.IntegrityError):
            conn.exec_driver_sql("INSERT INTO t VALUES (-1, 'x')")
    engine.dispose()
    assert "ck_year" in caplog.text and "'t'" in caplog.text
