"""Comparing the rows of a torture database with a clone's (issue 15, "Values round-trip exactly").

Within a dialect values compare by type and value; across dialects by the text of the closest type: bytes as
bytes, JSON documents by their parsed value, times and timestamps by value (a zone-less target holds UTC wall
time), decimals by their normalised digits. Where a target has no way to hold a value (MariaDB has no NaN,
infinity or zone in TIME; PostgreSQL has no zero date), the column is listed in ``APPROXIMATED`` with what it
becomes; the writer says so in ``WriteSummary.warnings``. Not a test module: test_torture and others import it.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

#: Columns a target cannot hold exactly, and what they become there (said in the write's warnings).
APPROXIMATED: dict[tuple[str, str], dict[str, str]] = {
    ("mariadb", "postgresql"): {"t_time.d": "zero date -> -infinity", "t_time.dt6": "zero date -> -infinity"},
    ("mariadb", "sqlite"): {},
    ("postgresql", "mariadb"): {"t_numeric.f8": "MariaDB has no NaN or infinity: NULL",
                                "t_numeric.f4": "MariaDB has no NaN or infinity: NULL",
                                "t_custom.c3": "character(3) 'C  ' kept as stored; PostgreSQL's text drops the pad",
                                "t_time.d": "infinity -> 9999-12-31", "t_time.ts": "infinity -> 9999-12-31",
                                "t_time.ttz": "MariaDB TIME has no zone", "t_time.iv": "interval text",
                                "t_time.iv_nn": "interval text"},
    ("postgresql", "sqlite"): {"t_numeric.f8": "SQLite has no NaN: NULL", "t_numeric.f4": "SQLite has no NaN: NULL",
                               "t_custom.c3": "character(3) 'C  ' kept as stored; PostgreSQL's text drops the pad"},
    ("sqlite", "mariadb"): {"t_affinity.r": "MariaDB has no infinite float: NULL"},
}


def _dialect(url: str) -> str:
    name = sa.make_url(url).get_backend_name()
    return "mariadb" if name in ("mysql", "mariadb") else name


def _reflected(url: str, schema: str | None) -> dict[str, sa.Table]:
    """The tables of ``schema`` (foreign keys to other databases not followed: MariaDB's _ext database)."""
    engine = sa.create_engine(url)
    try:
        md = sa.MetaData()
        md.reflect(engine, schema=schema, views=False, resolve_fks=False)
        return {t.name: t for t in md.tables.values() if t.schema == schema and not t.name.startswith("events_")}
    finally:
        engine.dispose()


# ---- comparison ---------------------------------------------------------------------------------------------
_DATETIME = re.compile(r"^-?\d{4}-\d\d-\d\d[ T]\d\d:\d\d(:\d\d(\.\d+)?)?([+-]\d\d(:\d\d)?)?$")
_TIME = re.compile(r"^\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d(:\d\d)?)?$")
_NUMBER = re.compile(r"^-?\d+\.\d+$")


def _text(value: str) -> Any:
    """Text as compared across dialects: JSON documents by value, dates and times by value."""
    if value[:1] in "[{":
        try:
            return json.dumps(json.loads(value), sort_keys=True)
        except ValueError:
            return value
    if value.startswith("0000-00-00"):  # the zero date and datetime, with or without fractional zeros
        return value.split(".")[0]
    if _DATETIME.match(value):
        try:
            stamp = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
        if stamp.tzinfo is not None:  # a zone-less target holds UTC wall time
            stamp = stamp.astimezone(dt.UTC).replace(tzinfo=None)
        return stamp.isoformat(sep=" ")
    if _NUMBER.match(value):  # '12.50' (a decimal's text) and Decimal('12.5') are one number
        return format(decimal.Decimal(value).normalize(), "f")
    if _TIME.match(value):
        try:
            return dt.time.fromisoformat(value).isoformat()
        except ValueError:  # MariaDB TIME spans -838:59:59..838:59:59
            return value
    return value


def norm(value: Any, exact: bool) -> Any:
    """A value as compared: type and value within a dialect, the text of the value across dialects."""
    if isinstance(value, float) and math.isnan(value):
        return ("float", "nan")
    if isinstance(value, memoryview):
        value = bytes(value)
    if isinstance(value, (set, frozenset)):
        value = ",".join(sorted(value))
    if exact:
        return (type(value).__name__, repr(value))
    if value is None:
        return None
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, decimal.Decimal):
        return format(value.normalize(), "f") if value.is_finite() else str(value)
    if isinstance(value, float):
        return repr(value) if not value.is_integer() else str(int(value))
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return _text(str(value))


def _lite_text(data: bytes) -> Any:
    # SQLite TEXT that is not UTF-8 (a BLOB-affinity column may hold it) compares as its bytes
    try:
        return data.decode()
    except UnicodeDecodeError:
        return data


def rows(url: str, table: sa.Table, exact: bool) -> list[tuple]:
    """Every row of ``table`` normalised with :func:`norm`, sorted."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            cols = [c for c in table.columns if c.computed is None]
            if _dialect(url) == "postgresql":
                # psycopg cannot load 'infinity' dates or years past 9999: PostgreSQL's own text for every type
                # but numbers, booleans, bytea and arrays (which load exactly)
                native = (sa.Integer, sa.Float, sa.Numeric, sa.Boolean, sa.LargeBinary, sa.ARRAY)
                cols = [c if isinstance(c.type, native) else sa.cast(c, sa.Text).label(c.name) for c in cols]
            if _dialect(url) == "mariadb":
                # DOUBLE reflects as a Decimal-returning type and SET as a Python set: their values as the
                # server sends them (a float; the members in declaration order)
                cols = [sa.type_coerce(c, sa.Float()).label(c.name) if isinstance(c.type, sa.Float)
                        else sa.type_coerce(c, sa.String()).label(c.name) if isinstance(c.type, mysql.SET)
                        else c for c in cols]
            if _dialect(url) == "sqlite":
                # dates as stored (SQLAlchemy's date parser refuses the zero date '0000-00-00')
                # and numbers as stored (SQLAlchemy rounds a NUMERIC's REAL to a Decimal of 10 places)
                cols = [sa.type_coerce(c, sa.Text).label(c.name) if isinstance(c.type, (sa.Date, sa.DateTime, sa.Time))
                        else sa.type_coerce(c, sa.types.NullType()).label(c.name) if isinstance(c.type, sa.Numeric)
                        else c for c in cols]
                conn.connection.driver_connection.text_factory = _lite_text
            dates = [i for i, c in enumerate(cols) if _dialect(url) == "sqlite" and isinstance(c.type, sa.Text)
                     and isinstance(table.c[c.name].type, (sa.Date, sa.DateTime, sa.Time))]
            out = []
            for r in conn.execute(sa.select(*cols)):
                r = list(r)
                for i in dates:  # '...03.123' and '...03.123000' are one timestamp
                    r[i] = _text(r[i]) if isinstance(r[i], str) else r[i]
                out.append(tuple(norm(v, exact) for v in r))
    finally:
        engine.dispose()
    return sorted(out, key=repr)


def differences(source: str, target: str, exact: bool, schema: str | None, tables: list[str]) -> dict[str, str]:
    """``{table.column: what differs}`` between ``tables`` of ``source`` (in ``schema``) and the target."""
    found: dict[str, str] = {}
    src_tables = _reflected(source, schema)
    # a PostgreSQL target holds each source schema under its name (CREATE SCHEMA); others hold the database
    tgt_tables = _reflected(target, (schema or "public") if _dialect(target) == "postgresql" else None)
    for name in tables:
        src, tgt = src_tables[name], tgt_tables.get(name)
        if tgt is None:
            found[name] = "missing in the target"
            continue
        a, b = rows(source, src, exact), rows(target, tgt, exact)
        if len(a) != len(b):
            found[name] = f"{len(a)} rows in the source, {len(b)} in the target"
            continue
        for i, col in enumerate(c.name for c in src.columns if c.computed is None):
            bad = sum(1 for x, y in zip(a, b) if x[i] != y[i])
            if bad:
                pair = next((x[i], y[i]) for x, y in zip(a, b) if x[i] != y[i])
                found[f"{name}.{col}"] = f"{bad} value(s) differ, e.g. {pair[0]!r} -> {pair[1]!r}"
    return found
