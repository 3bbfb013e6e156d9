"""The dialect capabilities records (dbsynth.dialects): complete for every dialect, looked up by any name or
SQLAlchemy object, a conservative record for the others, and a type table the reflection reads back."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql, sqlite

from dbsynth.dialects import (
    DEFAULT,
    DIALECTS,
    MYSQL,
    POSTGRESQL,
    SQLITE,
    Dialect,
    capabilities,
    family_types,
    same_dialect,
)
from dbsynth.metadata import sdtypes as st
from dbsynth.metadata.records import Column, Table
from dbsynth.reflect.types import map_type
from dbsynth.write.types import sa_type

KNOWN = (POSTGRESQL, MYSQL, SQLITE)
SA_DIALECTS = {POSTGRESQL: postgresql.dialect(), MYSQL: mysql.dialect(), SQLITE: sqlite.dialect()}


@pytest.mark.parametrize("dialect", [*KNOWN, DEFAULT], ids=lambda d: d.name)
def test_every_dialect_has_a_complete_record(dialect: Dialect):
    assert dialect.label and dialect.max_identifier_length > 0
    if dialect is not DEFAULT:
        assert dialect.sqlglot and DIALECTS[dialect.name] is dialect
        # loading needs one atomic path: a transaction around DDL, or staging tables swapped by one rename
        assert dialect.transactional_ddl or dialect.atomic_rename
    types = dialect.types
    assert set(types.unsigned) == {8, 16, 24, 32, 64}
    # every family without a rule of its own in sa_type has a type in the table
    assert {st.BOOL, st.DATE, st.TIME, st.TIMESTAMP, st.INTERVAL, st.UUID, st.JSON, st.BINARY, st.ARRAY} <= set(
        types.families)
    for family in ("date", "timestamp"):
        words = dialect.marker_text.get(family)
        assert words is None or len(words) == 3


def test_lookup_by_any_name_or_sqlalchemy_object(tmp_path):
    assert capabilities("mariadb") is MYSQL and capabilities("mysql+pymysql") is MYSQL
    assert capabilities("postgres") is POSTGRESQL  # sqlglot's name
    assert capabilities(sa.make_url("postgresql+psycopg://u@h/db")) is POSTGRESQL
    eng = sa.create_engine(f"sqlite:///{tmp_path / 'x.sqlite'}")
    try:
        assert capabilities(eng) is SQLITE and capabilities(eng.dialect) is SQLITE
        with eng.connect() as conn:
            assert capabilities(conn) is SQLITE
    finally:
        eng.dispose()
    assert capabilities(MYSQL) is MYSQL


def test_an_unknown_dialect_gets_the_conservative_record():
    for name in ("oracle", "mssql+pyodbc", None):
        assert capabilities(name) is DEFAULT
    off = [f.name for f in dataclasses.fields(Dialect) if isinstance(getattr(DEFAULT, f.name), bool)
           and getattr(DEFAULT, f.name) and f.name not in ("server", "column_comments", "named_primary_keys",
                                                            "alter_add_constraint", "integer_division")]
    assert off == []  # no capability assumed beyond plain SQL
    assert DEFAULT.max_identifier_length <= 30
    assert not DEFAULT.same("oracle")  # two unknown dialects are not taken for one
    assert MYSQL.same("mariadb") and not POSTGRESQL.same("sqlite") and not SQLITE.same(None)
    # a same-dialect clone between two databases of a dialect without a record: told by the name
    assert same_dialect("oracle", "oracle+oracledb") and not same_dialect("oracle", "mssql")
    assert same_dialect("mariadb", "mysql") and not same_dialect(None, "mysql") and not same_dialect("sqlite", "x")


def _columns() -> list[Column]:
    return [
        Column("i", st.INTEGER, bits=32), Column("s", st.INTEGER, bits=16), Column("b", st.INTEGER, bits=64),
        Column("f", st.FLOAT, bits=64), Column("r", st.FLOAT, bits=32), Column("d", st.DECIMAL, precision=10, scale=2),
        Column("v", st.STRING, length=20), Column("t", st.STRING), Column("o", st.BOOL), Column("dt", st.DATE),
        Column("tm", st.TIME), Column("ts", st.TIMESTAMP), Column("j", st.JSON), Column("bin", st.BINARY),
        Column("u", st.UUID), Column("iv", st.INTERVAL), Column("e", st.ENUM, enum_values=["a", "bc"]),
        Column("a", st.ARRAY, item_type=st.INTEGER),
    ]


#: What a family becomes where the dialect has no type of it (its values as text or JSON).
FALLBACKS = {
    POSTGRESQL: {st.INTERVAL: st.OTHER},  # psycopg's INTERVAL: read back as its text form (see read.py)
    MYSQL: {st.UUID: st.STRING, st.INTERVAL: st.STRING, st.ARRAY: st.JSON},
    SQLITE: {st.UUID: st.STRING, st.INTERVAL: st.STRING, st.ARRAY: st.STRING},
}


@pytest.mark.parametrize("dialect", KNOWN, ids=lambda d: d.name)
def test_type_table_round_trip(dialect: Dialect):
    """Each family written through the dialect's type table reads back (reflection's side of the same table) as
    that family, or as the documented fallback; widths and lengths survive."""
    table = Table("t", _columns())
    for col in table.columns:
        declared = sa_type(table, col, dialect.name, None, keyed=False)
        info = map_type(declared, SA_DIALECTS[dialect])
        want = FALLBACKS[dialect].get(col.type, col.type)
        assert info.type == want, (dialect.name, col.name, declared)
        if want == col.type and col.bits and col.type == st.INTEGER:
            assert info.bits == (64 if dialect.affinity else col.bits), (dialect.name, col.name)
        if want == col.type and col.length:
            assert info.length == col.length


def test_family_table_is_read_both_ways():
    rows = family_types()
    assert len({r.family for r in rows}) == len(rows)
    assert {r.family for r in rows} | {st.OTHER} == set(st.TYPE_FAMILIES)
    for row in rows:
        if row.writes is not None and row.family not in (st.INTERVAL, st.UUID, st.ARRAY):
            # the generic type a family is written with reads back as that family
            declared = row.writes(Column("x", row.family))
            assert next(r.family for r in rows if isinstance(declared, r.reads)) == row.family


def test_the_records_module_stays_light_and_neutral():
    # `import dbsynth` itself brings the metadata records and the (light) reflect and write packages
    expected = ("dbsynth.dialects", "dbsynth.metadata", "dbsynth.errors", "dbsynth.reflect", "dbsynth.write")
    code = ("import sys, dbsynth.dialects as d; d.capabilities('mariadb'); "
            "print(sorted(m for m in sys.modules if m.startswith(('dbsynth.', 'sqlalchemy')) "
            f"and not m.startswith({expected!r})))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
