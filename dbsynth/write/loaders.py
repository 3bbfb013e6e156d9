"""Bulk loaders per dialect: PostgreSQL COPY (psycopg 3), MariaDB multi-row INSERT, SQLite executemany.

Each loader writes one batch of one table inside the caller's transaction; it never commits.
"""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from .. import faults
from ..dialects import capabilities
from ..metadata.records import Column
from .convert import converting, pg_csv, python_columns

__all__ = ["load_batch", "update_batch"]


def _quote(conn: sa.Connection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote(name)


def _table_sql(conn: sa.Connection, table: str | sa.Table) -> str:
    # a Table in another schema (several source schemas on PostgreSQL) is written schema-qualified
    if isinstance(table, sa.Table):
        return conn.dialect.identifier_preparer.format_table(table)
    return _quote(conn, table)


def _target_types(table: str | sa.Table) -> dict | None:
    # the target columns' types decide how values of no portable family travel (text, or their native form)
    return {c.name: c.type for c in table.columns} if isinstance(table, sa.Table) else None


def load_batch(conn: sa.Connection, dialect: str, table: str | sa.Table, frame: pd.DataFrame, columns: list[Column],
               label: str | None = None) -> None:
    """Insert ``frame`` (its ``columns``) into ``table`` of the target.

    Args:
        conn: SQLAlchemy connection inside the load transaction.
        dialect: ``postgresql``, ``mysql`` or ``sqlite``.
        table: target table (schema-qualified when it has a schema) or its name.
        frame: the rows.
        columns: metadata columns to write, in order (frame columns of the same names).
        label: the metadata name of the table (``table`` may be a staging table), for fault points.
    """
    if frame.empty:
        return
    q = lambda n: _quote(conn, n)
    label = label or (table.name if isinstance(table, sa.Table) else table)
    tsql = _table_sql(conn, table)
    col_sql = ", ".join(q(c.name) for c in columns)
    caps = capabilities(dialect)
    if caps.copy:
        with converting(label):
            text, null = pg_csv(frame, columns)
        raw = conn.connection.driver_connection  # the psycopg 3 connection of this transaction
        assert raw is not None  # an open connection has its driver's
        null_lit = null.replace("\\", "\\\\")
        copy_sql = f"COPY {tsql} ({col_sql}) FROM STDIN (FORMAT csv, NULL E'{null_lit}')"
        with raw.cursor() as cur, cur.copy(copy_sql) as copy:
            copy.write(text)
            faults.point("copy", label)  # inside COPY: the rows sent, not yet ended
        return
    with converting(label):
        values = python_columns(frame, columns, dialect, _target_types(table))
    rows = list(zip(*values))
    mark = caps.placeholder
    sql = f"INSERT INTO {tsql} ({col_sql}) VALUES ({', '.join([mark] * len(columns))})"
    faults.point("copy", label)
    # pymysql rewrites executemany of INSERT ... VALUES into multi-row INSERTs; sqlite3 loops in C.
    conn.exec_driver_sql(sql, rows)


def update_batch(conn: sa.Connection, dialect: str, table: str | sa.Table, keys: pd.DataFrame, key_cols: list[Column],
                 set_cols: list[Column]) -> None:
    """Second pass of deferred foreign keys: ``UPDATE table SET set_cols WHERE key_cols`` for each row of ``keys``.

    On PostgreSQL the pairs are staged with COPY in a temporary table and applied with one ``UPDATE ... FROM``.
    """
    if keys.empty:
        return
    q = lambda n: _quote(conn, n)
    tsql = _table_sql(conn, table)
    caps = capabilities(dialect)
    if caps.copy:
        stage = "_dbsynth_fk_stage"
        allc = key_cols + set_cols
        conn.exec_driver_sql(
            f"CREATE TEMP TABLE {stage} ON COMMIT DROP AS SELECT {', '.join(q(c.name) for c in allc)} "
            f"FROM {tsql} WITH NO DATA"
        )
        load_batch(conn, dialect, stage, keys, allc)
        sets = ", ".join(f"{q(c.name)} = s.{q(c.name)}" for c in set_cols)
        where = " AND ".join(f"t.{q(c.name)} = s.{q(c.name)}" for c in key_cols)
        conn.exec_driver_sql(f"UPDATE {tsql} AS t SET {sets} FROM {stage} AS s WHERE {where}")
        conn.exec_driver_sql(f"DROP TABLE {stage}")
        return
    mark = caps.placeholder
    sets = ", ".join(f"{q(c.name)} = {mark}" for c in set_cols)
    where = " AND ".join(f"{q(c.name)} = {mark}" for c in key_cols)
    values = python_columns(keys, set_cols + key_cols, dialect, _target_types(table))
    conn.exec_driver_sql(f"UPDATE {tsql} SET {sets} WHERE {where}", list(zip(*values)))
