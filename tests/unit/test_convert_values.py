"""The value converters of copy mode (issue 15, "Values round-trip exactly"), one test per converter: what the
reader makes of a driver value and what the writer hands each target, without a server."""

from __future__ import annotations

import datetime as dt
import decimal

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql

from dbsynth.metadata.records import Column, ForeignKey, Metadata, Table
from dbsynth.read import JsonText, _convert, set_members
from dbsynth.write.convert import (
    ConversionError,
    collect_warnings,
    converting,
    pg_column,
    pg_csv,
    python_columns,
)
from dbsynth.write.dberrors import Where, describe
from dbsynth.write.ddl import build_schema
from dbsynth.write.types import align_foreign_keys, sa_type, text_fallbacks

FLOAT = Column("f", "float", "numerical", bits=64)
JSON = Column("j", "json", "other")
OTHER = Column("o", "other", "other")
SET = Column("features", "string", "categorical", native_type="SET('Trailers','Commentaries','Deleted Scenes')",
             length=17)


def test_nan_is_a_value_apart_from_null():
    s = _convert([1.5, float("nan"), None, float("inf")], FLOAT)
    assert isinstance(s.dtype, pd.Float64Dtype)
    assert s.isna().tolist() == [False, False, True, False]
    assert np.isnan(s.array._data[1])
    # PostgreSQL keeps NaN: the COPY column holds NaN, not NULL
    assert pg_column(s, FLOAT).isna().tolist() == [False, False, True, False]
    text, null = pg_csv(pd.DataFrame({"f": s}), [FLOAT])
    lines = (text.decode() if isinstance(text, bytes) else text).splitlines()
    assert [ln.lower() for ln in lines] == ["1.5", "nan", null.lower(), "inf"]


def test_nan_into_mariadb_and_sqlite_is_null_with_one_warning_per_table_column():
    s = _convert([float("nan"), None, 2.0], FLOAT)
    frame = pd.DataFrame({"f": s})
    for dialect in ("mysql", "sqlite"):
        with collect_warnings() as said, converting("t"):
            assert python_columns(frame, [FLOAT], dialect) == [[None, None, 2.0]]
            python_columns(frame, [FLOAT], dialect)  # a second batch says nothing new
        assert said == [f"table 't', column 'f': {'MariaDB/MySQL' if dialect == 'mysql' else 'SQLite'} has no NaN "
                        "float; NaN is written as NULL"]
    # a second write (same process) warns again: the warnings are per write, not per process
    with collect_warnings() as again, converting("t"):
        python_columns(frame, [FLOAT], "mysql")
    assert len(again) == 1
    strict = Column("f", "float", "numerical", bits=64, nullable=False)
    with pytest.raises(ConversionError):
        python_columns(frame, [strict], "mysql")


def test_plain_floats_without_nan_stay_float64():
    s = _convert([1.0, None, -0.0, 5e-324], FLOAT)
    assert s.dtype == "float64"
    assert python_columns(pd.DataFrame({"f": s}), [FLOAT], "sqlite") == [[1.0, None, -0.0, 5e-324]]


def test_json_keeps_the_source_text():
    text = '{"id" : 1, "b": 1e400,  "a": [1, 2]}'
    s = _convert([JsonText(text), None], JSON)  # PostgreSQL json, as the reader's psycopg loader hands it
    assert isinstance(s[0], JsonText) and s[0] == text
    # MariaDB/SQLite hand text: parsed (the frame contract's dict/list)
    assert _convert(['{"k": [1]}'], JSON).tolist() == [{"k": [1]}]
    for dialect in ("mysql", "sqlite"):
        assert python_columns(pd.DataFrame({"j": s}), [JSON], dialect)[0] == [text, None]
    assert pg_column(s, JSON).tolist()[0] == text
    # a plain str (pandas 3 drops the subclass) that is a document is verbatim too; dicts are serialised
    plain = pd.Series([text, {"k": 1}, "not json"], dtype=object)
    assert python_columns(pd.DataFrame({"j": plain}), [JSON], "mysql")[0] == [text, '{"k": 1}', '"not json"']


def test_mariadb_set_reads_in_declaration_order():
    assert set_members(SET.native_type) == ["Trailers", "Commentaries", "Deleted Scenes"]
    s = _convert([{"Commentaries", "Trailers"}, set(), None], SET)
    assert s.tolist() == ["Trailers,Commentaries", "", None]
    table = Table("t", [SET])
    # MariaDB keeps the SET type; other dialects get room for every member at once (not VARCHAR(17))
    assert sa_type(table, SET, "mysql", "mysql", False).compile(dialect=mysql.dialect()).startswith("SET(")
    assert sa_type(table, SET, "postgresql", "mysql", False).length == len("Trailers,Commentaries,Deleted Scenes")


def test_other_values_as_text_or_as_they_are():
    values = pd.Series([b"\x00\x01\xe6", 1901, 0, "[1,3)", None], dtype=object)
    frame = pd.DataFrame({"o": values})
    # into their own native type (MariaDB geometry/YEAR, SQLite typeless): as they are
    assert python_columns(frame, [OTHER], "mysql")[0] == [b"\x00\x01\xe6", 1901, 0, "[1,3)", None]
    # into a text column: bytes as hex digits
    assert python_columns(frame, [OTHER], "mysql", {"o": sa.Text()})[0] == ["0001e6", "1901", "0", "[1,3)", None]
    assert pg_column(values, OTHER).tolist() == ["0001e6", "1901", "0", "[1,3)", None]


def test_mariadb_bit_goes_to_other_dialects_as_its_number():
    bit = Column("b8", "other", "other", native_type="BIT(8)")
    table = Table("t", [bit])
    assert isinstance(sa_type(table, bit, "postgresql", "mysql", False), sa.BigInteger)
    values = pd.Series([b"\x01", b"\xff", None], dtype=object)
    assert pg_column(values, bit).tolist() == [1, 255, None]
    assert python_columns(pd.DataFrame({"b8": values}), [bit], "sqlite", {"b8": sa.BigInteger()})[0] == [1, 255, None]
    # MariaDB -> MariaDB: the BIT type and its bytes
    assert sa_type(table, bit, "mysql", "mysql", False).compile(dialect=mysql.dialect()) == "BIT(8)"
    assert python_columns(pd.DataFrame({"b8": values}), [bit], "mysql")[0] == [b"\x01", b"\xff", None]


def test_unsigned_integers_are_widened_across_dialects():
    u8 = Column("u8", "integer", "numerical", bits=64, native_type="BIGINT(20) UNSIGNED")
    u4 = Column("id", "integer", "numerical", bits=32, native_type="INTEGER(10) UNSIGNED")
    table = Table("t", [u8, u4])
    pg = sa_type(table, u8, "postgresql", "mysql", False)
    assert isinstance(pg, sa.Numeric) and (pg.precision, pg.scale) == (20, 0)
    assert isinstance(sa_type(table, u8, "sqlite", "mysql", False), sa.String)
    assert isinstance(sa_type(table, u4, "postgresql", "mysql", False), sa.BigInteger)
    assert sa_type(table, u4, "mysql", "mysql", False).compile(dialect=mysql.dialect()) == "INTEGER UNSIGNED"
    # SQLite: the decimal text of 2**64-1, exactly
    s = pd.Series(np.array([2**64 - 1, 0], dtype="uint64"))
    assert python_columns(pd.DataFrame({"u8": s}), [u8], "sqlite") == [["18446744073709551615", "0"]]


def test_time_with_time_zone_keeps_its_offset_into_postgresql():
    ttz = Column("ttz", "time", "datetime", timezone=True)
    tz = dt.timezone(dt.timedelta(hours=2))
    out = pg_column(pd.Series([dt.time(12, 1, tzinfo=tz), None], dtype=object), ttz)
    assert out.tolist() == ["12:01:00+02:00", None]


def test_wide_decimals_stay_decimal_objects():
    n30 = Column("n30", "decimal", "numerical", precision=30, scale=10)
    value = decimal.Decimal("10000000000000012345.6789012345")
    s = _convert([value, None], n30)
    assert s.tolist()[0] == value
    assert python_columns(pd.DataFrame({"n30": s}), [n30], "mysql")[0] == [value, None]


def _fk_metadata() -> Metadata:
    category = Table("category", [Column("category_id", "integer", "id", bits=32, nullable=False)],
                     primary_key=["category_id"])
    item = Table("item", [Column("item_id", "integer", "id", bits=32, nullable=False),
                          Column("category_id", "integer", "id", bits=16, nullable=False)],
                 primary_key=["item_id"],
                 foreign_keys=[ForeignKey(["category_id"], "category", ["category_id"], name="fk_item_category")])
    return Metadata({"category": category, "item": item}, dialect="postgresql")


def test_a_smallint_fk_gets_its_keys_type_across_dialects():
    md = _fk_metadata()
    _, tables = build_schema(md, "mysql", set())
    assert align_foreign_keys(md, tables, "mysql") == ["item.category_id"]
    assert isinstance(tables["item"].c.category_id.type, sa.Integer)
    assert not isinstance(tables["item"].c.category_id.type, sa.SmallInteger)
    # same dialect: the source's types agreed already, nothing changes
    _, same = build_schema(md, "postgresql", set())
    assert align_foreign_keys(md, same, "postgresql") == []
    assert isinstance(same["item"].c.category_id.type, sa.SmallInteger)
    assert postgresql  # the dialect module is importable (PostgreSQL target types above)


def test_mariadb_error_1005_names_the_table():
    import pymysql

    exc = pymysql.err.OperationalError(
        1005,
        "Can't create table `db`.`_dbsynth_new_item` (errno: 150 \"Foreign key constraint is incorrectly formed\")",
    )
    err = describe(exc, "mysql", Where("ddl", None, None), "the target was left unchanged")
    assert err.table == "item"
    assert "errno 150" in str(err) and "table 'item'" in str(err)


def test_a_type_with_nothing_closer_than_text_is_said_once_per_column():
    rng = Column("r4", "other", "other", native_type="INT4RANGE")
    t = Table("t_misc", [Column("id", "integer", "id", bits=32, nullable=False), rng], primary_key=["id"])
    md = Metadata({"t_misc": t}, dialect="postgresql")
    _, tables = build_schema(md, "mysql", set())
    assert text_fallbacks(md, tables, "mysql") == [
        "table 't_misc', column 'r4': mysql has no type closer to INT4RANGE; its values are written as their text"]
    _, same = build_schema(md, "postgresql", set())
    assert text_fallbacks(md, same, "postgresql") == []


def test_stamps_past_9999_are_the_last_mariadb_stamp_and_markers_stay():
    from dbsynth.read import INFINITY_US

    ts = Column("d", "timestamp", "datetime")
    raw = np.array(["10000-01-01T00:00:00", "2020-01-01T00:00:00.5", "NaT", "2020-01-01"], dtype="datetime64[us]")
    raw.view("int64")[3] = INFINITY_US
    frame = pd.DataFrame({"d": pd.Series(raw)})
    with collect_warnings() as said, converting("t"):
        assert python_columns(frame, [ts], "mysql") == [
            ["9999-12-31 23:59:59.999999", "2020-01-01 00:00:00.500000", None, "9999-12-31 23:59:59.999999"]]
    assert any("end at 9999-12-31" in w for w in said)
    # SQLite stores text: the marker keeps its word
    assert python_columns(frame.iloc[1:], [ts], "sqlite")[0][2] == "infinity"
